"""`get_file`: download into the cache with a hash check, atomically, and
extract archives safely, as `keras.utils.get_file`."""
import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from typing import Optional

from ._progbar import Progbar

_CHUNK = 1 << 16


def keras_home() -> str:
  """`$HK_KERAS_HOME`, else `$KERAS_HOME`, else `~/.keras` (Keras's cache,
  so files Keras downloaded are found)."""
  home = os.environ.get("HK_KERAS_HOME") or os.environ.get("KERAS_HOME")
  return os.path.expanduser(home or os.path.join("~", ".keras"))


def _hasher(algorithm: str, file_hash: Optional[str]):
  if algorithm == "auto":
    algorithm = "sha256" if file_hash and len(file_hash) == 64 else "md5"
  if algorithm not in ("sha256", "md5"):
    raise ValueError(
        "hash_algorithm must be 'auto', 'sha256' or 'md5'. Received: "
        f"hash_algorithm={algorithm!r}")
  return algorithm, hashlib.new(algorithm)


def hash_file(path: str, algorithm: str = "sha256") -> str:
  """The hex digest of a file (`"sha256"` or `"md5"`)."""
  digest = hashlib.new(algorithm)
  with open(path, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
      digest.update(chunk)
  return digest.hexdigest()


def validate_file(path: str, file_hash: str, algorithm: str = "auto") -> bool:
  """Whether the file's hash equals `file_hash`."""
  algorithm, _ = _hasher(algorithm, file_hash)
  return hash_file(path, algorithm) == str(file_hash).lower()


def _download(origin, target, file_hash, algorithm, verbose):
  """Streams `origin` into a temporary file next to `target`, checks size
  and hash, then renames it onto `target` (never a partial file there)."""
  algorithm, digest = _hasher(algorithm, file_hash)
  folder = os.path.dirname(target)
  fd, tmp = tempfile.mkstemp(dir=folder,
                             prefix="." + os.path.basename(target) + ".",
                             suffix=".part")
  try:
    with os.fdopen(fd, "wb") as out:
      try:
        response = urllib.request.urlopen(origin)
      except urllib.error.HTTPError as err:
        raise OSError(f"URL fetch failure on {origin}: {err.code} -- "
                      f"{err.msg}") from err
      except urllib.error.URLError as err:
        raise OSError(f"URL fetch failure on {origin}: {err.reason}. Check "
                      "the network, or put the file in the cache folder "
                      f"{folder} yourself.") from err
      with response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        bar = Progbar(total, verbose=1 if verbose else 0, unit_name="byte")
        received = 0
        for chunk in iter(lambda: response.read(_CHUNK), b""):
          out.write(chunk)
          digest.update(chunk)
          received += len(chunk)
          bar.update(received)
    if total is not None and received != total:
      raise OSError(
          f"The download from {origin} was interrupted: received {received} "
          f"of {total} bytes. Nothing was written to the cache; try again.")
    if file_hash is not None and digest.hexdigest() != str(file_hash).lower():
      raise ValueError(
          f"Incomplete or corrupted file detected: the {algorithm} hash of "
          f"the data from {origin} is {digest.hexdigest()}, expected "
          f"{file_hash}. Nothing was written to the cache.")
    os.replace(tmp, target)
  except BaseException:
    if os.path.exists(tmp):
      os.remove(tmp)
    raise


def _inside(root, path):
  root = os.path.realpath(root)
  return os.path.commonpath([root, os.path.realpath(path)]) == root


def extract_archive(path: str, target: str, archive_format="auto") -> bool:
  """Extracts a tar (any compression) or zip file into `target`, refusing
  members that would land outside it (absolute paths, `..`, links).

  Returns:
    True if the file was an archive of an accepted format.

  Raises:
    ValueError: for an archive member that escapes `target`.
  """
  formats = {"auto": ("tar", "zip"), None: ()}.get(archive_format,
                                                   archive_format)
  if isinstance(formats, str):
    formats = (formats,)
  for fmt in formats:
    if fmt == "tar" and tarfile.is_tarfile(path):
      with tarfile.open(path) as archive:
        for member in archive.getmembers():
          if (not _inside(target, os.path.join(target, member.name)) or
              member.issym() or member.islnk() or member.isdev()):
            raise ValueError(
                f"Refusing to extract {path!r}: member {member.name!r} is a "
                "link, a device or would be written outside "
                f"{target!r}.")
        _extract_atomically(target, archive.extractall)
      return True
    if fmt == "zip" and zipfile.is_zipfile(path):
      with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
          if not _inside(target, os.path.join(target, name)):
            raise ValueError(
                f"Refusing to extract {path!r}: member {name!r} would be "
                f"written outside {target!r}.")
        _extract_atomically(target, archive.extractall)
      return True
  return False


def _extract_atomically(target, extractall):
  parent = os.path.dirname(os.path.abspath(target))
  tmp = tempfile.mkdtemp(dir=parent, prefix="." + os.path.basename(target))
  try:
    extractall(tmp)
    if os.path.exists(target):
      shutil.rmtree(target) if os.path.isdir(target) else os.remove(target)
    os.replace(tmp, target)
  except BaseException:
    shutil.rmtree(tmp, ignore_errors=True)
    raise


def get_file(fname: Optional[str] = None, origin: Optional[str] = None,
             untar: bool = False, md5_hash: Optional[str] = None,
             file_hash: Optional[str] = None,
             cache_subdir: str = "datasets", hash_algorithm: str = "auto",
             extract: bool = False, archive_format: str = "auto",
             cache_dir: Optional[str] = None,
             force_download: bool = False, verbose: bool = True) -> str:
  """Downloads a file into the cache unless it is already there, as Keras.

  The file goes to `cache_dir/cache_subdir/fname` (by default
  `~/.keras/datasets/`, the folder Keras uses, or `$HK_KERAS_HOME` /
  `$KERAS_HOME`). A cached file whose hash matches `file_hash` is used
  without any network access. A download is written to a temporary file,
  checked (length and hash) and only then renamed into place, so an
  interrupted or corrupt download leaves nothing in the cache. Archives are
  extracted (tar, tar.gz, tar.bz2, zip) into `<name>_extracted` next to the
  download, refusing members that would escape that folder.

  Args:
    fname: the file name in the cache; default the last part of `origin`.
    origin: the URL (http, https, file).
    untar: deprecated, as `extract=True` with `archive_format="tar"`.
    md5_hash: deprecated, as `file_hash` with md5.
    file_hash: the expected sha256 or md5 hex digest (None: no check).
    cache_subdir: the sub-folder of `cache_dir`.
    hash_algorithm: "auto" (by digest length), "sha256" or "md5".
    extract: extract the archive and return the extraction folder.
    archive_format: "auto", "tar", "zip" or a list of them.
    cache_dir: the cache root.
    force_download: download even if the file is cached.
    verbose: print "Downloading data from ..." and a progress bar.

  Returns:
    The path of the file (or of the extraction folder).

  Raises:
    ValueError: on a hash mismatch, a missing `origin`, or a path as
      `fname`.
    OSError: when the download fails or is interrupted.

  >>> path = get_file(origin="https://example.com/data.csv")  # doctest: +SKIP
  """
  if origin is None:
    raise ValueError('Please specify the "origin" argument (URL of the file '
                     "to download).")
  if cache_dir is None:
    cache_dir = keras_home()
  if md5_hash is not None and file_hash is None:
    file_hash, hash_algorithm = md5_hash, "md5"
  datadir = os.path.join(os.path.expanduser(os.fspath(cache_dir)),
                         cache_subdir)
  os.makedirs(datadir, exist_ok=True)
  given = fname is not None
  fname = os.fspath(fname) if given else os.path.basename(
      urllib.parse.urlsplit(origin).path)
  if not fname:
    raise ValueError(f"Can't parse the file name from origin {origin!r}. "
                     "Pass the `fname` argument.")
  if os.sep in fname or (os.altsep and os.altsep in fname):
    raise ValueError(
        "Paths are not accepted as `fname`; pass the folder as `cache_dir`. "
        f"Received: fname={fname!r}")
  if extract or untar:
    stem = fname[:fname.find(".")] if "." in fname else fname
    if given and "." in fname:
      target = os.path.join(datadir, fname)
      extraction_dir = os.path.join(datadir, f"{stem}_extracted")
    else:
      extraction_dir = os.path.join(datadir, fname)
      target = os.path.join(datadir, f"{fname}_archive")
  else:
    target = os.path.join(datadir, fname)

  download = force_download or not os.path.exists(target)
  if not download and file_hash is not None and not validate_file(
      target, file_hash, hash_algorithm):
    if verbose:
      print(f"A local file was found, but its hash does not match "
            f"{file_hash}; downloading it again.")
    download = True
  if download:
    if verbose:
      print(f"Downloading data from {origin}", file=sys.stdout)
    _download(origin, target, file_hash, hash_algorithm, verbose)
  if extract or untar:
    fmt = "tar" if untar else archive_format
    if download or not os.path.exists(extraction_dir):
      if not extract_archive(target, extraction_dir, fmt):
        raise ValueError(
            f"Could not extract {target!r}: it is not a {fmt} archive.")
    return extraction_dir
  return target
