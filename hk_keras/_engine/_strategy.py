"""Device strategies: how a step is compiled and where a batch is placed.

The engine talks to devices only through this interface, so a pmap or
sharding strategy can replace the single-device one without touching the
engine.
"""
import jax


class SingleDevice:
  """Runs compiled steps on one device with `jax.jit`."""

  def __init__(self, device=None):
    self.device = device or jax.devices()[0]
    self.num_replicas = 1

  def compile(self, fn, *, donate_state=True, static_argnums=()):
    """jit-compiles `fn(state, *args)`, donating the train state."""
    return jax.jit(fn, donate_argnums=(0,) if donate_state else (),
                   static_argnums=static_argnums)

  def put(self, tree):
    """Moves a pytree of host arrays to the device (asynchronously)."""
    return jax.device_put(tree, self.device)

  def fetch(self, tree):
    """Brings device values back to the host."""
    return jax.device_get(tree)


def get_strategy():
  """The strategy for the current distribution setting."""
  return SingleDevice()
