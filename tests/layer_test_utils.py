"""One helper to test a layer end to end (Keras's `run_layer_test` idea).

`run_layer_test` builds the layer in a one-layer model and checks: output
shape, param count, purity of init/apply, jit vs no-jit, the config round
trip, Keras 3 weight order and shapes, and numerical parity with Keras 3 (JAX
backend) with the same weights, in inference and training mode.
"""
import inspect
import json
import os
import re

os.environ.setdefault("KERAS_BACKEND", "jax")

import chex
import jax
import numpy as np

import hk_keras

try:
  import keras  # pylint: disable=g-import-not-at-top
except ImportError:  # keras is in the `test` extra; parity is skipped without it
  keras = None


def make_input(shape, dtype="float32", seed=0, low=None, high=None):
  rng = np.random.default_rng(seed)
  if np.issubdtype(np.dtype(dtype), np.integer):
    return rng.integers(low or 0, high or 10, size=shape).astype(dtype)
  return rng.normal(size=shape).astype(dtype)


def one_layer_model(layer, input_shape, dtype="float32"):
  return hk_keras.Sequential([hk_keras.Input(input_shape[1:], dtype=dtype),
                              layer])


def run_layer_test(layer_cls, init_kwargs, input_shape, *,
                   expected_output_shape=None, expected_num_params=None,
                   keras_cls=None, keras_kwargs=None, input_dtype="float32",
                   input_data=None, atol=1e-5, training_modes=(False, True),
                   check_state_after_training=False, check_config=True):
  """Checks one layer thoroughly; returns (model, keras_model or None)."""
  x = input_data if input_data is not None else make_input(
      input_shape, input_dtype)
  layer = layer_cls(**init_kwargs)
  model = one_layer_model(layer, input_shape, input_dtype)
  rng = jax.random.PRNGKey(0)

  # Output shape and parameter count.
  out, _ = model.apply(model.params, model.state, rng, x)
  if expected_output_shape is not None:
    chex.assert_shape(out, expected_output_shape)
  if expected_num_params is not None:
    assert model.count_params() == expected_num_params, (
        model.count_params(), expected_num_params)

  # Purity: same rng -> same params; same inputs -> same outputs.
  p1, s1 = model.init(rng, x)
  p2, s2 = model.init(rng, x)
  chex.assert_trees_all_equal((p1, s1), (p2, s2))
  for training in training_modes:
    a, _ = model.apply(p1, s1, rng, x, training=training)
    b, _ = model.apply(p1, s1, rng, x, training=training)
    chex.assert_trees_all_equal(a, b)
    # jit vs no jit.
    jitted = jax.jit(model.apply, static_argnames="training")
    c, _ = jitted(p1, s1, rng, x, training=training)
    chex.assert_trees_all_close(a, c, atol=1e-5, rtol=1e-5)

  # Config round trip: same class, same weight shapes.
  if check_config:
    config = layer.get_config()
    clone = layer_cls.from_config({**config, "name": layer.name + "_clone"})
    clone_model = one_layer_model(clone, input_shape, input_dtype)
    assert [w.shape for w in clone_model.get_weights()] == [
        w.shape for w in model.get_weights()]

  keras_model = None
  if keras is not None and keras_cls is not None:
    keras_model = keras.Sequential([
        keras.Input(input_shape[1:], dtype=input_dtype),
        keras_cls(**(init_kwargs if keras_kwargs is None else keras_kwargs))])
    kw = keras_model.get_weights()
    # Same Keras weight order and shapes.
    assert [w.shape for w in kw] == [w.shape for w in model.get_weights()], (
        [w.shape for w in kw], [w.shape for w in model.get_weights()])
    model.set_weights(kw)
    for training in training_modes:
      if training and check_state_after_training:
        continue
      ours, _ = model.apply(model.params, model.state, rng, x,
                            training=training)
      theirs = keras_model(x, training=training)
      chex.assert_trees_all_close(
          jax.tree_util.tree_map(np.asarray, ours),
          jax.tree_util.tree_map(np.asarray, theirs), atol=atol, rtol=atol)
    if check_state_after_training:
      ours, new_state = model.apply(model.params, model.state, rng, x,
                                    training=True)
      theirs = keras_model(x, training=True)
      chex.assert_trees_all_close(np.asarray(ours), np.asarray(theirs),
                                  atol=atol, rtol=atol)
      model.state = new_state
      for a, b in zip(model.get_weights(), keras_model.get_weights()):
        np.testing.assert_allclose(a, b, atol=atol, rtol=atol)
  return model, keras_model


# -- many layers at once ------------------------------------------------------
# One model holds one branch per case, so a sweep of a hundred layers is one
# hk_keras compile, one Keras model and one save/load, instead of a hundred.

class SweepCase:
  """One layer of a sweep: Keras 3's class name, its arguments, the input
  shape(s) with the batch axis, and whether its training-mode output is
  random (then it is compared in inference mode only; test its training
  statistics separately)."""

  def __init__(self, name, kwargs=None, input_shape=(2, 3), *,
               keras_kwargs=None, random=False, input_dtype="float32"):
    self.name = name
    self.kwargs = dict(kwargs or {})
    self.keras_kwargs = (self.kwargs if keras_kwargs is None
                         else dict(keras_kwargs))
    self.input_shape = input_shape
    self.random = random
    self.input_dtype = input_dtype

  @property
  def multi_input(self):
    return isinstance(self.input_shape, list)

  @property
  def shapes(self):
    return self.input_shape if self.multi_input else [self.input_shape]

  def __repr__(self):
    return f"{self.name}({self.kwargs})"


def _branches(lib, cases, make_layer):
  inputs, outputs, made = [], [], []
  for case in cases:
    xs = [lib.Input(s[1:], dtype=case.input_dtype) for s in case.shapes]
    layer = make_layer(case)
    outputs.append(layer(xs if case.multi_input else xs[0]))
    inputs += xs
    made.append(layer)
  return inputs, outputs, made


def _close(ours, theirs, atol, what):
  ours = np.asarray(ours)
  theirs = np.asarray(theirs)
  assert ours.shape == theirs.shape, (what, ours.shape, theirs.shape)
  np.testing.assert_allclose(ours, theirs, atol=atol, rtol=atol,
                             err_msg=str(what))


def _input_slots(cases, picked):
  """Positions in the flat input list of the inputs of cases `picked`."""
  starts = np.cumsum([0] + [len(c.shapes) for c in cases])
  return [j for i in picked for j in range(starts[i], starts[i + 1])]


def run_layer_sweep(cases, *, save_dir=None, atol=1e-5, seed=0,
                    check_jit=True):
  """Checks every case against Keras 3 in one hk_keras and one Keras model.

  Per case: the symbolic output shape, the automatic name's base, the param
  count, the weight names, order and shapes (Keras's `get_weights` order),
  the config (JSON round trip to an equal config, keys a subset of Keras's)
  and the outputs with Keras's weights copied in, in inference and training
  mode (layers whose `call` takes `training`; random ones by shape only).
  For the whole model: `.keras` save and load (into `save_dir`) give the
  same outputs. With `check_jit`, un-jitted outputs must equal the jitted
  ones.

  Returns:
    `(model, keras_model, layers, keras_layers, inputs)`.
  """
  assert keras is not None, "run_layer_sweep needs Keras 3 (the test extra)"
  ours_in, ours_out, layers = _branches(
      hk_keras, cases, lambda c: getattr(hk_keras.layers, c.name)(**c.kwargs))
  theirs_in, theirs_out, keras_layers = _branches(
      keras, cases, lambda c: getattr(keras.layers, c.name)(**c.keras_kwargs))
  base = lambda n: re.sub(r"_\d+$", "", n)
  for case, layer, klayer, o, t in zip(cases, layers, keras_layers, ours_out,
                                       theirs_out):
    # Keras leaves some sizes unknown (None) that hk_keras infers; the real
    # outputs are compared below.
    assert len(o.shape) == len(t.shape) and all(
        b is None or a == b for a, b in zip(o.shape, t.shape)), (
            case, o.shape, t.shape)
    assert base(layer.name) == base(klayer.name), (case, layer.name,
                                                   klayer.name)
  model = hk_keras.Model(ours_in, ours_out)
  keras_model = keras.Model(theirs_in, theirs_out)

  for case, layer, klayer in zip(cases, layers, keras_layers):
    names = [r.name for r in layer._ordered_records()]  # pylint: disable=protected-access
    knames = [w.name for w in klayer.weights]
    assert names == knames, (case, names, knames)
    kw = klayer.get_weights()
    assert [w.shape for w in layer.get_weights()] == [w.shape for w in kw], (
        case, [w.shape for w in layer.get_weights()], [w.shape for w in kw])
    assert layer.count_params() == klayer.count_params(), case
    layer.set_weights(kw)
    # Config: JSON, round trip, and only Keras's keys.
    config = layer.get_config()
    loaded = json.loads(json.dumps(config))
    clone = type(layer).from_config({**loaded, "name": layer.name + "_clone"})
    assert {**clone.get_config(), "name": layer.name} == loaded, case
    extra = set(config) - set(klayer.get_config()) - {"trainable", "dtype"}
    assert not extra, (case, extra)

  rng = np.random.default_rng(seed)
  xs = []
  for case in cases:
    for s in case.shapes:
      if np.issubdtype(np.dtype(case.input_dtype), np.integer):
        xs.append(rng.integers(0, 5, size=s).astype(case.input_dtype))
      else:
        xs.append(rng.normal(size=s).astype(case.input_dtype))
  key = jax.random.PRNGKey(seed)

  apply = jax.jit(model.apply, static_argnames="training")
  # Keras runs jitted too (stateless_call), so its ops compile once.
  keras_apply = jax.jit(
      lambda tv, ntv, inputs, training: keras_model.stateless_call(
          tv, ntv, inputs, training=training)[0], static_argnums=3)
  tv = [v.value for v in keras_model.trainable_variables]
  ntv = [v.value for v in keras_model.non_trainable_variables]
  ours, _ = apply(model.params, model.state, key, xs, training=False)
  theirs = keras_apply(tv, ntv, xs, False)
  for case, o, t in zip(cases, ours, theirs):
    _close(o, t, atol, (case, "inference"))
  results = {False: ours}

  # Training mode. A layer whose `call` takes no `training` argument, in
  # hk_keras and in Keras, computes the same function in both modes (the
  # flag never reaches it), so only the others are run again; random ones
  # are compared by shape here (test their statistics separately).
  def takes_training(layer):
    return "training" in inspect.signature(layer.call).parameters
  picked = [i for i, (l, k) in enumerate(zip(layers, keras_layers))
            if takes_training(l) or takes_training(k)]
  if picked:
    sub = hk_keras.Model([ours_in[j] for j in _input_slots(cases, picked)],
                         [ours_out[i] for i in picked])
    ksub = keras.Model([theirs_in[j] for j in _input_slots(cases, picked)],
                       [theirs_out[i] for i in picked])
    sub_xs = [xs[j] for j in _input_slots(cases, picked)]
    ours, _ = jax.jit(sub.apply, static_argnames="training")(
        sub.params, sub.state, key, sub_xs, training=True)
    theirs = jax.jit(lambda tv, ntv, inputs: ksub.stateless_call(
        tv, ntv, inputs, training=True)[0])(
            [v.value for v in ksub.trainable_variables],
            [v.value for v in ksub.non_trainable_variables], sub_xs)
    for i, o, t in zip(picked, ours, theirs):
      if cases[i].random:
        assert np.asarray(o).shape == tuple(np.shape(t)), cases[i]
      else:
        _close(o, t, atol, (cases[i], "training"))

  eager = None
  if check_jit:
    # No jit against jit, op by op.
    eager, _ = model.apply(model.params, model.state, key, xs)
    for case, e, o in zip(cases, eager, results[False]):
      _close(e, o, 1e-5, (case, "jit vs no jit"))

  if save_dir is not None:
    path = os.path.join(str(save_dir), "sweep.keras")
    model.save(path)
    restored = hk_keras.saving.load_model(path)
    if eager is not None:
      # Un-jitted too: the op-by-op call above compiled these very ops, so
      # this costs no new XLA compilation of the whole model.
      again, _ = restored.apply(restored.params, restored.state, key, xs)
      reference = eager
    else:
      again, _ = jax.jit(restored.apply)(restored.params, restored.state,
                                         key, xs)
      reference = results[False]
    for case, o, a in zip(cases, reference, again):
      _close(a, o, 1e-6, (case, "after .keras save and load"))
  return model, keras_model, layers, keras_layers, xs
