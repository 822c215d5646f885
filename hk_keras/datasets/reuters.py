"""Reuters newswire topics (Keras's source and hashes): `load_data`,
`get_word_index`, `get_label_names`."""
from . import _remote
from ._sources import GCS

_LABELS = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing",
    "money-supply", "coffee", "sugar", "trade", "reserves", "ship", "cotton",
    "carcass", "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp",
    "meal-feed", "alum", "oilseed", "gold", "tin", "strategic-metal",
    "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi",
    "hog", "lead")


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None,
              test_split=0.2, seed=113, start_char=1, oov_char=2,
              index_from=3):
  """Loads Reuters as `keras.datasets.reuters.load_data(...)`.

  Returns:
    `(x_train, y_train), (x_test, y_test)`: object arrays of lists of word
    indices and int topic labels (46 topics).
  """
  return _remote.load_reuters(path, num_words, skip_top, maxlen, test_split,
                              seed, start_char, oov_char, index_from)


def get_word_index(path="reuters_word_index.json"):
  """The `{word: index}` dict (indices before `index_from` is added)."""
  return _remote.word_index(path, GCS + "reuters_word_index.json",
                            _remote.REUTERS_WORD_INDEX_MD5)


def get_label_names():
  """The 46 topic names, indexed like the labels."""
  return _LABELS


__all__ = ["get_label_names", "get_word_index", "load_data"]
