"""A pickle reader that can only rebuild data, never run code.

Keras's CIFAR batches are pickles, and the IMDB/Reuters `.npz` files hold
object arrays (lists of word indices) that NumPy stores as pickles. Python's
`pickle` module calls whatever global a file names, and even a restricted
`Unpickler.find_class` still imports modules and calls the callables it lets
through. This module does neither: it interprets the handful of pickle
opcodes that NumPy arrays, lists, dicts, numbers and strings need (protocols
0 to 5: CIFAR's batches come from Python 2's cPickle), and treats the few globals NumPy's pickles name as symbols whose
effect it emulates itself (building arrays with `np.frombuffer`). Every other
opcode and global is refused before anything is created.

Memory and depth are bounded: no length read from the file may exceed what
is left of the file, and the stack, the MARK nesting and the nesting of
containers are capped. The interpreter is a loop, never recursive.
"""
import codecs
import re
import struct

from . import _numpy_pickle
from ._numpy_pickle import ArgTuple, Global, Pending

MAX_DEPTH = 100  # Nested containers; Keras's files need 3.
MAX_STACK = 1 << 20  # Items on the stack at once; pickle batches 1,000.
_MAX_LINE = 256  # GLOBAL / PUT / GET text arguments.

_FIX = ("The file may be corrupt or malicious; delete it from the cache and "
        "download it again.")

# Opcodes that exist only to create or call arbitrary objects.
_CODE_OPCODES = {
    b"i": "INST", b"o": "OBJ", b"\x81": "NEWOBJ", b"\x92": "NEWOBJ_EX",
    b"\x82": "EXT1", b"\x83": "EXT2", b"\x84": "EXT4", b"P": "PERSID",
    b"Q": "BINPERSID", b"\x97": "NEXT_BUFFER", b"\x98": "READONLY_BUFFER",
}
_OTHER_OPCODES = {
    b"2": "DUP", b"\x8f": "EMPTY_SET", b"\x90": "ADDITEMS",
    b"\x91": "FROZENSET",
}
_INT_TEXT = re.compile(r"[+-]?\d+\Z")
_PLAIN = (int, float, bool, str, bytes, bytearray, type(None))
_PLAIN_TYPES = frozenset(_PLAIN)
_INT_OPS = frozenset(b"KMJ")  # BININT1, BININT2, BININT.
_UINT16, _INT32 = struct.Struct("<H"), struct.Struct("<i")


class UnsafePickleError(ValueError):
  """A pickle was refused: it would run code, or it is malformed."""


class _Reader:
  """One pass over a pickle's bytes; see `loads`."""

  def __init__(self, data, encoding, where):
    self.data, self.pos, self.where = data, 0, where
    self.encoding = encoding
    self.stack, self.marks, self.memo = [], [], {}
    self.depth, self.attached = {}, set()
    (self.ops, self.names), self.op_pos = _opcodes(self), 0

  def close(self):
    """Frees what was read now (the handlers and the reader form a cycle,
    which would otherwise wait for the garbage collector)."""
    self.stack, self.memo, self.ops, self.depth = [], {}, {}, {}
    self.attached = set()

  # -- errors --------------------------------------------------------------

  def refuse(self, what):
    return UnsafePickleError(
        f"Refusing to load {self.where}: {what}. Loading it with pickle "
        f"would run code from the file, so it is refused. {_FIX}")

  def broken(self, what):
    return UnsafePickleError(
        f"Cannot read {self.where}: {self.op_name()} at byte {self.op_pos}: "
        f"{what}. {_FIX}")

  def op_name(self):
    code = self.data[self.op_pos:self.op_pos + 1]
    if not code:
      return "end of file"
    return self.names.get(code) or _OTHER_OPCODES.get(
        code, _CODE_OPCODES.get(code, f"unknown opcode {code!r}"))

  # -- reading the byte stream --------------------------------------------

  def take(self, n):
    left = len(self.data) - self.pos
    if n < 0 or n > left:
      raise self.broken(
          f"needs {n} bytes but only {left} remain (the file is truncated, "
          "or a length in it is forged)")
    start = self.pos
    self.pos += n
    return self.data[start:self.pos]

  def unpack(self, fmt):
    return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

  def line(self, limit=_MAX_LINE, raw=False):
    """A text argument (protocol 0/1 opcodes, GLOBAL): the bytes up to the
    next newline, at most `limit` of them (None: up to the end of file)."""
    stop = None if limit is None else self.pos + limit
    end = self.data.find(b"\n", self.pos, stop)
    if end < 0 and (limit is None or len(self.data) - self.pos < limit):
      raise self.broken("the file is truncated (a line has no end)")
    if end < 0:
      raise self.broken(f"expected a line of at most {limit} bytes")
    text = self.take(end - self.pos + 1)[:-1]
    if raw:
      return text
    try:
      return text.decode("utf-8")
    except UnicodeDecodeError as e:
      raise self.broken(f"the line is not UTF-8 ({e})") from None

  # -- the stack ------------------------------------------------------------

  def push(self, value):
    if len(self.stack) >= MAX_STACK:
      raise self.broken(f"more than {MAX_STACK} items on the stack")
    self.stack.append(value)

  def pop(self):
    fence = self.marks[-1] if self.marks else 0
    if len(self.stack) <= fence:
      raise self.broken("the stack is empty")
    return self.stack.pop()

  def top(self):
    fence = self.marks[-1] if self.marks else 0
    if len(self.stack) <= fence:
      raise self.broken("the stack is empty")
    return self.stack[-1]

  def pop_mark(self):
    if not self.marks:
      raise self.broken("no MARK to pop to")
    start = self.marks.pop()
    items = self.stack[start:]
    del self.stack[start:]
    return items

  # -- containers: depth, and no change once placed in another -------------

  def new(self, obj, depth=1):
    if depth > MAX_DEPTH:
      raise self.broken(f"containers are nested more than {MAX_DEPTH} deep")
    self.depth[id(obj)] = depth
    self.attached.discard(id(obj))
    return obj

  def item(self, value, into):
    """Checks `value` may be placed in a container; returns its depth."""
    if isinstance(value, Pending):
      raise self.broken(f"a NumPy {value.kind} is used before its state "
                        "(BUILD) is set")
    if isinstance(value, (Global, ArgTuple)) and into is not tuple:
      name = (f"`{value.module}.{value.name}`" if isinstance(value, Global)
              else "a global")
      raise self.refuse(f"it uses {name} as a value")
    if isinstance(value, _PLAIN):
      return 0
    self.attached.add(id(value))
    return self.depth.get(id(value), 1)

  def fill(self, items, kind):
    """APPEND(S) / SETITEM(S): adds `items` to the list or dict below."""
    target = self.top()
    if not isinstance(target, kind):
      raise self.broken(f"expected a {kind.__name__} to add to, got "
                        f"{type(target).__name__}")
    if id(target) in self.attached:
      raise self.broken(f"a {kind.__name__} is changed after being placed "
                        "in another container (pickle.dumps never does this)")
    deepest = 0
    if not _PLAIN_TYPES.issuperset(map(type, items)):
      deepest = max((self.item(v, kind) for v in items
                     if not isinstance(v, _PLAIN)), default=0)
    self.new(target, max(self.depth.get(id(target), 1), deepest + 1))
    if kind is list:
      target.extend(items)
      return
    try:
      for k, v in zip(items[::2], items[1::2]):
        target[k] = v
    except TypeError as e:
      raise self.broken(f"bad dict key ({e})") from None

  def tuple_of(self, items):
    if any(isinstance(v, (Global, ArgTuple)) for v in items):
      for v in items:
        self.item(v, tuple)
      return ArgTuple(items)
    deepest = max((self.item(v, tuple) for v in items), default=0)
    return self.new(tuple(items), deepest + 1)

  # -- strings --------------------------------------------------------------

  def py2_str(self, raw):
    """Python 2 `str` (SHORT_BINSTRING / BINSTRING), as `pickle` does."""
    if self.encoding == "bytes":
      return bytes(raw)
    try:
      return raw.decode(self.encoding)
    except UnicodeDecodeError as e:
      raise self.broken(f"cannot decode a Python 2 string with "
                        f"encoding={self.encoding!r} ({e})") from None

  def text_int(self):
    """INT / LONG: decimal text; INT's "00" and "01" are False and True."""
    text = self.line()
    if text in ("00", "01"):
      return text == "01"
    text = text[:-1] if text.endswith("L") else text
    if not _INT_TEXT.match(text):
      raise self.broken(f"expected an integer, got {text[:40]!r}")
    return int(text)

  def text_str(self):
    """STRING: a Python 2 `str` as its quoted repr, as `pickle` decodes it
    (`codecs.escape_decode` only turns escapes into bytes)."""
    text = self.line(limit=None, raw=True)
    if len(text) < 2 or text[:1] != text[-1:] or text[:1] not in b"'\"":
      raise self.broken("the STRING argument is not quoted")
    return self.py2_str(codecs.escape_decode(text[1:-1])[0])

  def text_unicode(self):
    return str(self.line(limit=None, raw=True), "raw-unicode-escape")

  def unicode(self, raw):
    try:
      return str(raw, "utf-8", "surrogatepass")
    except UnicodeDecodeError as e:
      raise self.broken(f"the string is not UTF-8 ({e})") from None

  # -- the interpreter loop -------------------------------------------------

  def ints(self, pos):
    """Reads a run of BININT1/BININT2/BININT, as fast as Python allows: the
    word lists of IMDB and Reuters are millions of them. Returns where the
    run stops; the main loop's handlers read the last few bytes of the file
    (and report a truncated opcode or a full stack)."""
    data, stack = self.data, self.stack
    append, h, i = stack.append, _UINT16.unpack_from, _INT32.unpack_from
    while True:
      room = MAX_STACK - len(stack)
      # Each opcode is at least 2 bytes: no more than `room` pushes, and
      # every read stays inside the file.
      limit = min(len(data) - 5, pos + 2 * room)
      start = pos
      while pos < limit:
        code = data[pos]
        if code == 0x4B:
          append(data[pos + 1])
          pos += 2
        elif code == 0x4D:
          append(h(data, pos + 1)[0])
          pos += 3
        elif code == 0x4A:
          append(i(data, pos + 1)[0])
          pos += 5
        else:
          return pos
      if pos >= len(data) - 5 or pos == start:
        return pos  # A full stack: the next push reports it.

  def proto(self):
    proto = self.take(1)[0]
    if proto > 5:
      raise self.broken(f"protocol {proto} is not read (only 0 to 5)")

  def frame(self):
    size = self.unpack("<Q")
    if size > len(self.data) - self.pos:
      raise self.broken(f"a frame of {size} bytes is longer than the rest "
                        "of the file (the file is truncated, or a length in "
                        "it is forged)")

  def mark(self):
    if len(self.marks) >= MAX_DEPTH:
      raise self.broken(f"MARKs are nested more than {MAX_DEPTH} deep")
    self.marks.append(len(self.stack))

  def memo_get(self, key):
    if key not in self.memo:
      raise self.broken(f"memo entry {key} was never stored")
    value = self.memo[key]
    if isinstance(value, Pending) and value.done:
      value = self.memo[key] = value.value
    self.push(value)

  def memo_put(self, key):
    self.memo[key] = self.top()

  def run(self):
    try:
      return self.loop()
    except UnsafePickleError:
      raise
    except (ArithmeticError, LookupError, TypeError, ValueError,
            struct.error, MemoryError) as e:
      raise self.broken(
          f"malformed pickle ({type(e).__name__}: {e})") from None

  def loop(self):
    if self.data[:1] not in self.ops:
      raise UnsafePickleError(
          f"Cannot read {self.where}: it is not a pickle (starts with "
          f"{bytes(self.data[:4])!r}). {_FIX}")
    data, ops = self.data, self.ops
    while True:
      self.op_pos = pos = self.pos
      if pos >= len(data):
        raise self.broken("the file is truncated (no STOP opcode)")
      if data[pos] in _INT_OPS:
        self.pos = self.ints(pos)
        if self.pos != pos:
          continue  # Else a truncated one: its handler below says so.
      code = data[pos:pos + 1]
      self.pos = pos + 1
      op = ops.get(code)
      if op is None:
        if code in _CODE_OPCODES:
          raise self.refuse(f"opcode {self.op_name()} ({code!r}) at byte "
                            f"{pos} creates or calls arbitrary objects")
        raise UnsafePickleError(
            f"Cannot read {self.where}: opcode {self.op_name()} ({code!r}) "
            f"at byte {pos} is not one that NumPy's and Keras's dataset "
            "pickles use, and this reader (which never runs code from a "
            f"file) understands only those. {_FIX}")
      if code == b".":
        result = self.pop()
        self.item(result, list)
        return result
      op()


def _opcodes(r):
  """Opcode byte -> handler closed over the reader `r`, named as in
  `pickletools`."""
  push, pop, take, unpack = r.push, r.pop, r.take, r.unpack
  pop_mark, memo_get, memo_put = r.pop_mark, r.memo_get, r.memo_put

  def length(fmt):
    return take(unpack(fmt))

  def pop2():
    b = pop()
    return pop(), b

  def tuple_n(n):
    push(r.tuple_of([pop() for _ in range(n)][::-1]))

  def from_mark(empty, kind):
    items = pop_mark()
    if kind is dict and len(items) % 2:
      raise r.broken("DICT needs key, value pairs")
    push(r.new(empty))
    r.fill(items, kind)

  def setitems():
    items = pop_mark()
    if len(items) % 2:
      raise r.broken("SETITEMS needs key, value pairs")
    r.fill(items, dict)

  def stack_global():
    name, module = pop(), pop()
    if not isinstance(module, str) or not isinstance(name, str):
      raise r.broken("STACK_GLOBAL needs two strings")
    push(_numpy_pickle.global_symbol(r, module, name))

  table = {
      b".": ("STOP", lambda: None),  # Handled by the loop.
      b"\x80": ("PROTO", r.proto),
      b"\x95": ("FRAME", r.frame),
      b"(": ("MARK", r.mark),
      b"0": ("POP", pop),
      b"1": ("POP_MARK", pop_mark),
      b"N": ("NONE", lambda: push(None)),
      b"\x88": ("NEWTRUE", lambda: push(True)),
      b"\x89": ("NEWFALSE", lambda: push(False)),
      b"K": ("BININT1", lambda: push(take(1)[0])),
      b"M": ("BININT2", lambda: push(unpack("<H"))),
      b"J": ("BININT", lambda: push(unpack("<i"))),
      b"\x8a": ("LONG1", lambda: push(
          int.from_bytes(take(take(1)[0]), "little", signed=True))),
      b"\x8b": ("LONG4", lambda: push(
          int.from_bytes(length("<i"), "little", signed=True))),
      b"G": ("BINFLOAT", lambda: push(unpack(">d"))),
      b"U": ("SHORT_BINSTRING", lambda: push(r.py2_str(take(take(1)[0])))),
      b"T": ("BINSTRING", lambda: push(r.py2_str(length("<i")))),
      b"\x8c": ("SHORT_BINUNICODE", lambda: push(r.unicode(take(take(1)[0])))),
      b"X": ("BINUNICODE", lambda: push(r.unicode(length("<I")))),
      b"\x8d": ("BINUNICODE8", lambda: push(r.unicode(length("<Q")))),
      b"C": ("SHORT_BINBYTES", lambda: push(bytes(take(take(1)[0])))),
      b"B": ("BINBYTES", lambda: push(bytes(length("<I")))),
      b"\x8e": ("BINBYTES8", lambda: push(bytes(length("<Q")))),
      b"\x96": ("BYTEARRAY8", lambda: push(
          r.new(bytearray(length("<Q")), 0))),
      b"]": ("EMPTY_LIST", lambda: push(r.new([]))),
      b"}": ("EMPTY_DICT", lambda: push(r.new({}))),
      b"a": ("APPEND", lambda: r.fill([pop()], list)),
      b"e": ("APPENDS", lambda: r.fill(pop_mark(), list)),
      b"s": ("SETITEM", lambda: r.fill(pop2(), dict)),
      b"u": ("SETITEMS", setitems),
      b"I": ("INT", lambda: push(r.text_int())),
      b"L": ("LONG", lambda: push(r.text_int())),
      b"F": ("FLOAT", lambda: push(float(r.line()))),
      b"S": ("STRING", lambda: push(r.text_str())),
      b"V": ("UNICODE", lambda: push(r.text_unicode())),
      b"l": ("LIST", lambda: from_mark([], list)),
      b"d": ("DICT", lambda: from_mark({}, dict)),
      b")": ("EMPTY_TUPLE", lambda: push(())),
      b"t": ("TUPLE", lambda: push(r.tuple_of(pop_mark()))),
      b"\x85": ("TUPLE1", lambda: tuple_n(1)),
      b"\x86": ("TUPLE2", lambda: tuple_n(2)),
      b"\x87": ("TUPLE3", lambda: tuple_n(3)),
      b"p": ("PUT", lambda: memo_put(_int_line(r))),
      b"q": ("BINPUT", lambda: memo_put(take(1)[0])),
      b"r": ("LONG_BINPUT", lambda: memo_put(unpack("<I"))),
      b"\x94": ("MEMOIZE", lambda: memo_put(len(r.memo))),
      b"g": ("GET", lambda: memo_get(_int_line(r))),
      b"h": ("BINGET", lambda: memo_get(take(1)[0])),
      b"j": ("LONG_BINGET", lambda: memo_get(unpack("<I"))),
      b"c": ("GLOBAL", lambda: push(
          _numpy_pickle.global_symbol(r, r.line(), r.line()))),
      b"\x93": ("STACK_GLOBAL", stack_global),
      b"R": ("REDUCE", lambda: push(_numpy_pickle.reduce(r, *pop2()))),
      b"b": ("BUILD", lambda: push(_numpy_pickle.build(r, *pop2()))),
  }
  return ({code: fn for code, (_, fn) in table.items()},
          {code: name for code, (name, _) in table.items()})


def _int_line(r):
  text = r.line()
  if not text.isdigit():
    raise r.broken(f"expected a memo index, got {text!r}")
  return int(text)


def loads(data, encoding="bytes", where="the file"):
  """The object pickled in `data` (bytes), rebuilt without running code.

  Args:
    data: the pickle's bytes (protocol 0 to 5).
    encoding: how Python 2 `str` objects are read, as `pickle.loads`'s
      `encoding` ("bytes" keeps them as bytes).
    where: names the file in error messages.

  Returns:
    What `pickle.loads(data, encoding=encoding)` returns, for the pickles of
    NumPy arrays and dtypes, NumPy scalars, lists, dicts, tuples, ints,
    floats, bools, None, str and bytes.

  Raises:
    UnsafePickleError: the file names any other global or uses an opcode that
      creates or calls objects (it would run code), or it is malformed,
      truncated, or nested too deep.
  """
  if isinstance(data, memoryview):
    data = data.tobytes()
  reader = _Reader(data, encoding, where)
  try:
    return reader.run()
  finally:
    reader.close()
