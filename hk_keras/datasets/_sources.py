"""Where Keras 3 downloads its datasets from, with the files' hashes."""
import os

from ..utils import _file

GCS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
# Tests point this at a local server: `HK_KERAS_DATASETS_URL=http://...`.
_BASE_ENV = "HK_KERAS_DATASETS_URL"


def origin(url: str) -> str:
  """`url`, or the same file under `$HK_KERAS_DATASETS_URL` (a mirror)."""
  mirror = os.environ.get(_BASE_ENV)
  if not mirror:
    return url
  return mirror.rstrip("/") + "/" + url.rsplit("/", 1)[1]


def fetch(fname, url, file_hash=None, **kwargs) -> str:
  """`get_file` from Keras's origin (or the mirror); a cached file whose
  hash matches needs no network."""
  return _file.get_file(fname, origin(url), file_hash=file_hash, **kwargs)
