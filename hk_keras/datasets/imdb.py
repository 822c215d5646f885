"""IMDB reviews as word indices (Keras's source and hashes): `load_data`,
`get_word_index`."""
from . import _remote
from ._sources import GCS


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None,
              seed=113, start_char=1, oov_char=2, index_from=3, **kwargs):
  """Loads IMDB as `keras.datasets.imdb.load_data(...)`, same arguments.

  Returns:
    `(x_train, y_train), (x_test, y_test)`: object arrays of lists of word
    indices and int labels (0/1), shuffled with `seed` as Keras does.

  Raises:
    ValueError: if `maxlen` removes every sequence.
  """
  return _remote.load_imdb(path, num_words, skip_top, maxlen, seed,
                           start_char, oov_char, index_from, **kwargs)


def get_word_index(path="imdb_word_index.json"):
  """The `{word: index}` dict (indices before `index_from` is added)."""
  return _remote.word_index(path, GCS + "imdb_word_index.json",
                            _remote.IMDB_WORD_INDEX_MD5)


__all__ = ["get_word_index", "load_data"]
