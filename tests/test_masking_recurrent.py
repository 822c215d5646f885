"""Masking (issue 12, item 7) and the recurrent layers (item 4) against Keras 3.

Keras reference models are built once per case; every comparison copies the
Keras weights into the hk_keras model and checks outputs, losses and metrics
at atol 1e-5.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hk_keras
from hk_keras import layers
from hk_keras._core import _masking
from tests.layer_test_utils import run_layer_test

keras = pytest.importorskip("keras")

ATOL = 1e-5
T, F = 5, 3


def _close(a, b, atol=ATOL):
  chex_tree = jax.tree_util.tree_map(np.asarray, a)
  other = jax.tree_util.tree_map(np.asarray, b)
  jax.tree_util.tree_map(
      lambda x, y: np.testing.assert_allclose(x, y, atol=atol, rtol=atol),
      chex_tree, other)


# -- every new layer through the layer-test helper ----------------------------

def _cases():
  k, h = keras.layers, layers
  return [
      ("SimpleRNN_seq_back", h.SimpleRNN,
       {"units": 4, "return_sequences": True, "go_backwards": True},
       k.SimpleRNN, None, (2, T, 4)),
      ("RNN_StackedRNNCells", h.RNN,
       {"cell": h.StackedRNNCells([h.SimpleRNNCell(2), h.LSTMCell(3)]),
        "unroll": True},
       k.RNN, {"cell": k.StackedRNNCells([k.SimpleRNNCell(2),
                                          k.LSTMCell(3)]), "unroll": True},
       (2, 3)),
      ("Bidirectional_ave_backward_layer", h.Bidirectional,
       {"layer": h.LSTM(3), "merge_mode": "ave",
        "backward_layer": h.GRU(3, go_backwards=True)}, k.Bidirectional,
       {"layer": k.LSTM(3), "merge_mode": "ave",
        "backward_layer": k.GRU(3, go_backwards=True)}, (2, 3)),
      ("TimeDistributed_Dense", h.TimeDistributed, {"layer": h.Dense(2)},
       k.TimeDistributed, {"layer": k.Dense(2)}, (2, T, 2)),
      ("Masking", h.Masking, {"mask_value": 0.0}, k.Masking, None,
       (2, T, F)),
  ]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c[0])
def test_layer_matches_keras(case):
  _, cls, kwargs, keras_cls, keras_kwargs, out_shape = case
  x = np.random.default_rng(0).normal(size=(2, T, F)).astype("float32")
  x[1, 3:] = 0.0  # zero steps (padding for Masking)
  model, keras_model = run_layer_test(
      cls, kwargs, (2, T, F), input_data=x, expected_output_shape=out_shape,
      keras_cls=keras_cls, keras_kwargs=keras_kwargs, atol=ATOL)
  assert model.count_params() == keras_model.count_params()


def test_variants_match_keras_in_one_model():
  """The other arguments of each layer, as branches of one Functional model
  (one Keras model, one trace): cells, directions, merge modes, return and
  initial states."""
  x = np.random.default_rng(1).normal(size=(2, T, F)).astype("float32")
  h0 = np.random.default_rng(2).normal(size=(2, 3)).astype("float32")

  def build(K):
    L = K.layers
    i = K.Input((T, F))
    s1, s2 = K.Input((3,)), K.Input((3,))
    outs = list(L.RNN(L.LSTMCell(3), return_state=True,
                      return_sequences=True)(i, initial_state=[s1, s2]))
    outs += list(L.Bidirectional(L.GRU(3, return_state=True))(i))
    outs += [
        L.SimpleRNN(4)(i),
        L.RNN(L.SimpleRNNCell(3))(i),
        L.RNN(L.GRUCell(3, reset_after=False), go_backwards=True)(i),
        L.Bidirectional(L.LSTM(3))(i),
        L.Bidirectional(L.GRU(3, return_sequences=True), merge_mode="sum")(i),
        L.Bidirectional(L.SimpleRNN(3), merge_mode="mul")(i),
    ]
    outs += list(L.Bidirectional(L.SimpleRNN(2), merge_mode=None)(i))
    return K.Model([i, s1, s2], outs)

  km, hm = build(keras), build(hk_keras)
  assert [w.shape for w in hm.get_weights()] == [
      w.shape for w in km.get_weights()]
  assert hm.count_params() == km.count_params()
  hm.set_weights(km.get_weights())
  for training in (False, True):
    _close(hm([x, h0, -h0], training=training),
           km([x, h0, -h0], training=training))


def test_cells_called_directly_match_keras():
  x = np.random.default_rng(3).normal(size=(2, F)).astype("float32")
  h = np.random.default_rng(4).normal(size=(2, 3)).astype("float32")
  for hcell, kcell, states in [
      (layers.SimpleRNNCell(3), keras.layers.SimpleRNNCell(3), [h]),
      (layers.LSTMCell(3), keras.layers.LSTMCell(3), [h, -h]),
      (layers.GRUCell(3), keras.layers.GRUCell(3), [h])]:
    k_out = kcell(x, states)
    hcell(x, states)  # builds
    hcell.set_weights(kcell.get_weights())
    _close(hcell(x, states), k_out)


def test_user_written_cell_runs_in_rnn():
  class MinimalCell(layers.Layer):

    def __init__(self, units, **kwargs):
      super().__init__(**kwargs)
      self.units = units
      self.state_size = units

    def build(self, input_shape):
      self.kernel = self.add_weight((input_shape[-1], self.units),
                                    name="kernel")
      self.recurrent_kernel = self.add_weight((self.units, self.units),
                                              name="recurrent_kernel")

    def call(self, inputs, states):
      out = inputs @ self.kernel + states[0] @ self.recurrent_kernel
      return out, [out]

  model = hk_keras.Sequential([hk_keras.Input((T, F)),
                               layers.RNN(MinimalCell(4))])
  x = np.random.default_rng(5).normal(size=(2, T, F)).astype("float32")
  k, rk = model.get_weights()
  h = np.zeros((2, 4), "float32")
  for t in range(T):
    h = x[:, t] @ k + h @ rk
  np.testing.assert_allclose(model(x), h, atol=ATOL)


# -- masking parity ------------------------------------------------------------

VOCAB, L_SHORT, L_LONG = 9, 6, 9


def _ids(length, pad=True):
  rng = np.random.default_rng(7)
  ids = rng.integers(1, VOCAB, size=(4, length)).astype("int32")
  if pad:
    for row, n in enumerate([6, 2, 4, 1]):
      ids[row, n:] = 0
  return ids


def _model_a(K, length):
  i = K.Input((length,), dtype="int32")
  x = K.layers.Embedding(VOCAB, 4, mask_zero=True, name="emb")(i)
  x = K.layers.Bidirectional(K.layers.LSTM(3, return_sequences=True,
                                           name="lstm"), name="bi")(x)
  x = K.layers.GlobalAveragePooling1D(name="gap")(x)
  o = K.layers.Dense(3, activation="softmax", name="out")(x)
  return K.Model(i, o)


def _model_b(K, length):
  i = K.Input((length, 2))
  x = K.layers.Masking(name="masking")(i)
  x = K.layers.GRU(3, return_sequences=True, name="gru")(x)
  o = K.layers.TimeDistributed(K.layers.Dense(2, activation="softmax"),
                               name="td")(x)
  return K.Model(i, o)


def test_masks_propagate_in_sequential_and_subclassed_models():
  x = _ids(L_SHORT)

  class Tagger(hk_keras.Model):

    def __init__(self):
      super().__init__()
      self.emb = layers.Embedding(VOCAB, 4, mask_zero=True)
      self.rnn = layers.SimpleRNN(3)

    def call(self, inputs):
      return self.rnn(self.emb(inputs))

  seq = hk_keras.Sequential([hk_keras.Input((L_SHORT,), dtype="int32"),
                             layers.Embedding(VOCAB, 4, mask_zero=True),
                             layers.SimpleRNN(3)])
  sub = Tagger()
  sub(x)
  sub.set_weights(seq.get_weights())
  # Reference: the last real step's state, computed on each real prefix.
  emb, kernel, rkernel, bias = seq.get_weights()
  for row, n in enumerate([6, 2, 4, 1]):
    h = np.zeros(3, "float32")
    for t in range(n):
      h = np.tanh(emb[x[row, t]] @ kernel + h @ rkernel + bias)
    np.testing.assert_allclose(seq(x)[row], h, atol=ATOL)
    np.testing.assert_allclose(sub(x)[row], h, atol=ATOL)


def test_custom_layers_produce_and_consume_masks():
  seen = {}

  class Produce(layers.Layer):

    def compute_mask(self, inputs, previous_mask=None):
      return inputs[..., 0] > 0

    def call(self, inputs):
      return inputs

  class Consume(layers.Layer):

    def call(self, inputs, mask=None):
      seen["mask"] = mask is not None
      if mask is None:  # shape inference of the Functional graph
        return jnp.sum(inputs, axis=1)
      return jnp.sum(jnp.where(mask[..., None], inputs, 0.0), axis=1)

  i = hk_keras.Input((T, F))
  model = hk_keras.Model(i, Consume()(layers.Dense(F)(Produce()(i))))
  x = np.random.default_rng(9).normal(size=(2, T, F)).astype("float32")
  out = model(x)
  assert seen["mask"]
  kernel, bias = [l for l in model.layers
                  if isinstance(l, layers.Dense)][0].get_weights()
  dense = x @ kernel + bias
  np.testing.assert_allclose(
      out, np.sum(np.where((x[..., 0] > 0)[..., None], dense, 0), 1),
      atol=ATOL)
  assert not layers.Layer().supports_masking
  assert Produce().supports_masking and layers.Dense(2).supports_masking


def test_mask_table_is_keyed_by_live_tensors():
  a = jnp.ones(3)
  _masking.set_keras_mask(a, jnp.array([True, False, True]))
  assert _masking.get_keras_mask(jnp.ones(3)) is None
  np.testing.assert_array_equal(_masking.get_keras_mask(a),
                                [True, False, True])
  del a
  assert not any(ref() is None for ref, _ in _masking._masks.values())


# -- stateful RNNs ---------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: layers.LSTM(3, stateful=True, return_sequences=True),
    lambda: layers.RNN(layers.GRUCell(3), stateful=True,
                       return_sequences=True)], ids=["LSTM", "RNN_GRUCell"])
def test_stateful_batches_equal_one_long_sequence(make):
  x = np.random.default_rng(10).normal(size=(2, 8, F)).astype("float32")
  rnn = make()
  model = hk_keras.Model(*_io(rnn, batch_size=2))
  long_model = hk_keras.Model(*_io(
      type(rnn).from_config({**rnn.get_config(), "stateful": False,
                             "name": rnn.name + "_long"}), steps=8))
  long_model.set_weights(model.get_weights()[:len(long_model.get_weights())])
  params, state = model.params, model.state
  rng = jax.random.PRNGKey(0)
  first, state = model.apply(params, state, rng, x[:, :4])
  second, state = model.apply(params, state, rng, x[:, 4:])
  whole = long_model(x)
  _close(np.concatenate([first, second], 1), whole)
  model.state = state
  assert any(np.abs(w).sum() > 0 for w in model.non_trainable_weights)
  rnn.reset_states()
  assert all(np.abs(w).sum() == 0 for w in model.non_trainable_weights)
  again, _ = model.apply(params, model.state, rng, x[:, :4])
  _close(again, first)


def _io(rnn, batch_size=None, steps=4):
  i = hk_keras.Input((steps, F), batch_size=batch_size)
  return i, rnn(i)


def test_stateful_rejects_other_batch_sizes():
  i = hk_keras.Input((4, F), batch_size=2)
  model = hk_keras.Model(i, layers.SimpleRNN(2, stateful=True)(i))
  with pytest.raises(ValueError, match="fixed batch size"):
    model.apply(model.params, model.state, jax.random.PRNGKey(0),
                np.zeros((3, 4, F), "float32"))


def test_bad_arguments_raise_clear_errors():
  with pytest.raises(ValueError, match="merge mode"):
    layers.Bidirectional(layers.LSTM(2), merge_mode="max")
  with pytest.raises(ValueError, match="go_backwards"):
    layers.Bidirectional(layers.LSTM(2), backward_layer=layers.LSTM(2))
  with pytest.raises(ValueError, match="state_size"):
    layers.RNN(layers.Dense(2))
  with pytest.raises(ValueError, match="mask_value"):
    layers.Masking(mask_value="pad")
  with pytest.raises(ValueError, match="recurrent layer"):
    layers.Bidirectional(layers.Dense(2))




@pytest.mark.parametrize("make", [
    lambda: layers.SimpleRNN(2), lambda: layers.SimpleRNNCell(2),
    lambda: layers.LSTMCell(2), lambda: layers.GRUCell(2),
    lambda: layers.RNN(layers.GRUCell(2)), lambda: layers.Masking(),
    lambda: layers.StackedRNNCells([layers.LSTMCell(2)]),
    lambda: layers.Bidirectional(layers.LSTM(2)),
    lambda: layers.TimeDistributed(layers.Dense(2))],
    ids=lambda f: "")
def test_config_has_every_constructor_argument(make):
  import inspect
  import json
  layer = make()
  cls = type(layer)
  config = layer.get_config()
  arguments = [name for name, p in inspect.signature(cls.__init__).parameters
               .items() if name != "self" and p.kind != p.VAR_KEYWORD
               and name != "weights"]
  assert set(arguments) <= set(config), set(arguments) - set(config)
  json.dumps(config)
  clone = cls.from_config({**config, "name": layer.name + "_copy"})
  clone_config = {**clone.get_config(), "name": layer.name}
  wrapper = isinstance(layer, (layers.Bidirectional, layers.RNN,
                               layers.StackedRNNCells,
                               layers.TimeDistributed))
  if wrapper:  # nested layers get new names
    assert set(clone_config) == set(config)
  else:
    assert clone_config == config
    # Keras 3 reads the same config, and has no key we lack.
    keras_layer = getattr(keras.layers, cls.__name__).from_config(config)
    assert set(keras_layer.get_config()) <= set(config)
  extras = [name for name in arguments
            if name.endswith(("_regularizer", "_constraint"))]
  for name in extras:  # Keras's regularizers and constraints are taken
    value = "l2" if name.endswith("_regularizer") else "non_neg"
    configured = cls(2, **{name: value})
    assert getattr(configured, name) is not None
    assert configured.get_config()[name]["class_name"] in ("L2", "NonNeg")


@pytest.mark.parametrize("cls, kwargs, shape, out_shape", [
    ("ConvLSTM1D", {"filters": 2, "kernel_size": 2, "strides": 2,
                    "data_format": "channels_first"}, (2, 3, 2, 5), (2, 2, 2)),
    ("ConvLSTM2D", {"filters": 2, "kernel_size": 2, "padding": "same",
                    "return_sequences": True, "go_backwards": True},
     (2, 3, 4, 4, 2), (2, 3, 4, 4, 2)),
    ("ConvLSTM3D", {"filters": 2, "kernel_size": 2}, (1, 2, 3, 3, 3, 2),
     (1, 2, 2, 2, 2)),
])
def test_conv_lstm_matches_keras(cls, kwargs, shape, out_shape):
  run_layer_test(getattr(layers, cls), kwargs, shape,
                 expected_output_shape=out_shape,
                 keras_cls=getattr(keras.layers, cls), atol=ATOL)
  config = getattr(layers, cls)(**kwargs).get_config()
  keras_layer = getattr(keras.layers, cls).from_config(config)
  assert set(keras_layer.get_config()) <= set(config)


def test_conv_lstm_masked_steps_keep_the_state():
  """(Keras 3.15's ConvLSTM fails on any mask, so the reference here is the
  unmasked layer on the real steps only.)"""
  x = np.random.default_rng(12).normal(size=(2, 4, 5, 2)).astype("float32")
  mask = np.array([[True] * 4, [True, True, False, False]])
  layer = layers.ConvLSTM1D(2, 3, padding="same", return_state=True)
  out, h, c = layer(x, mask=mask)
  short_out, short_h, short_c = layer(x[:, :2])
  _close([out[1], h[1], c[1]], [short_out[1], short_h[1], short_c[1]])
  full_out, _, _ = layer(x)
  _close(out[0], full_out[0])


def test_stateful_model_calls_carry_states_and_dropout_trains():
  x = np.random.default_rng(13).normal(size=(2, 8, F)).astype("float32")
  i = hk_keras.Input((4, F), batch_size=2)
  rnn = layers.SimpleRNN(3, stateful=True)
  model = hk_keras.Model(i, rnn(i))
  j = hk_keras.Input((8, F))
  long_model = hk_keras.Model(j, layers.SimpleRNN(3)(j))
  long_model.set_weights(model.get_weights()[:3])
  model(x[:, :4])
  _close(model(x[:, 4:]), long_model(x))  # model(x) carries the states
  # Dropout: only in training, one draw per sequence, reproducible per rng.
  for layer in (layers.SimpleRNN(3, dropout=0.5, recurrent_dropout=0.5),
                layers.RNN(layers.LSTMCell(3, dropout=0.5,
                                           recurrent_dropout=0.5))):
    m = hk_keras.Model(*_io(layer))
    rng = jax.random.PRNGKey(1)
    a, _ = m.apply(m.params, m.state, rng, x[:, :4], training=True)
    b, _ = m.apply(m.params, m.state, rng, x[:, :4], training=True)
    c, _ = m.apply(m.params, m.state, rng, x[:, :4], training=False)
    _close(a, b)
    assert np.abs(np.asarray(a) - np.asarray(c)).max() > 1e-3
