"""File helpers for datasets: checksums, cache locations, safe downloads."""

import hashlib
import os
import tempfile
import urllib.request
from typing import Iterable, List, Optional

_CHUNK = 1 << 20


def sha256_of_bytes(data: bytes) -> str:
  """Returns the hex sha256 of `data`."""
  return hashlib.sha256(data).hexdigest()


def sha256_of_file(path: str) -> str:
  """Returns the hex sha256 of the file at `path`, read in chunks."""
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    for chunk in iter(lambda: f.read(_CHUNK), b""):
      digest.update(chunk)
  return digest.hexdigest()


def cache_dirs() -> List[str]:
  """Dataset cache folders, in search order.

  `$HK_KERAS_HOME/datasets` when `HK_KERAS_HOME` is set, then Keras's own
  cache `~/.keras/datasets` (so a file Keras downloaded is found).
  """
  dirs = []
  home = os.environ.get("HK_KERAS_HOME")
  if home:
    dirs.append(os.path.join(os.path.expanduser(home), "datasets"))
  dirs.append(os.path.join(os.path.expanduser("~"), ".keras", "datasets"))
  return dirs


def download(url: str, path: str, sha256: Iterable[str]) -> str:
  """Downloads `url` to `path` atomically, accepting only known checksums.

  The data goes to a temporary file next to `path`; only when its sha256 is
  one of `sha256` is it renamed onto `path` (an atomic `os.replace`), so a
  failed or corrupt download never leaves a partial or wrong file behind.
  A cache folder created by this call is removed again on failure.

  Args:
    url: Any URL urllib can open (`https://...`, `file://...`).
    path: Destination file path.
    sha256: Accepted hex digests.

  Returns:
    `path`.

  Raises:
    ValueError: If the downloaded data's checksum is not accepted.
    OSError: If the download or the file operations fail (e.g. URLError).
  """
  accepted = {h.lower() for h in sha256}
  folder = os.path.dirname(os.path.abspath(path))
  created = not os.path.isdir(folder)
  os.makedirs(folder, exist_ok=True)
  fd, tmp_path = tempfile.mkstemp(
      dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".part")
  try:
    digest = hashlib.sha256()
    with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url) as response:
      for chunk in iter(lambda: response.read(_CHUNK), b""):
        digest.update(chunk)
        out.write(chunk)
    got = digest.hexdigest()
    if got not in accepted:
      raise ValueError(
          f"The file downloaded from {url} has sha256 {got}, which is not "
          f"an accepted checksum ({', '.join(sorted(accepted))}). The "
          "download may be corrupt or the URL may serve different data; "
          "nothing was written to the cache.")
    os.replace(tmp_path, path)
  except BaseException:
    if os.path.exists(tmp_path):
      os.remove(tmp_path)
    if created:
      try:
        os.rmdir(folder)
      except OSError:
        pass
    raise
  return path


def first_existing(paths: Iterable[str]) -> Optional[str]:
  """Returns the first path that is an existing file, or None."""
  for p in paths:
    if os.path.isfile(p):
      return p
  return None
