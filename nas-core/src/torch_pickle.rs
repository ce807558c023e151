//! Reader for PyTorch checkpoints written by `torch.save`, independent of
//! libtorch and of Python.
//!
//! Two container formats are understood:
//!
//! * the **zip format** (torch >= 1.6): an archive holding `<prefix>/data.pkl`
//!   (the pickled object), `<prefix>/data/<key>` (one raw storage per key) and
//!   optionally `<prefix>/byteorder` (`little` or `big`); any archive prefix is
//!   accepted;
//! * the **legacy format** (`_use_new_zipfile_serialization=False` and torch
//!   < 1.6): five consecutive pickles (magic number, protocol version 1001,
//!   sys-info dict, the object with persistent storage ids, the list of storage
//!   keys) followed, for every key, by an `i64` element count and the raw bytes.
//!
//! The pickle virtual machine implemented here covers the opcodes emitted by
//! protocols 2 to 4 for state dicts. Only a small set of globals is understood
//! (`collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`,
//! `torch._utils._rebuild_tensor`, `torch._utils._rebuild_parameter`,
//! `torch._utils._rebuild_parameter_with_state`,
//! `torch._utils._rebuild_from_type_v2`, `torch.nn.parameter.Parameter`,
//! `torch.Size` and the typed `torch.*Storage` classes); any other global
//! becomes an opaque object, which only causes an error if it ends up where a
//! tensor is required.
//!
//! Tensors are rebuilt from `(storage, storage_offset, size, stride)` and
//! gathered into contiguous C order, so non-contiguous tensors (for instance
//! channels-last convolution weights) load correctly.
//!
//! Robustness: malformed input yields an `Err(String)`, never a panic. All
//! reads are bounds-checked, allocations are bounded by the file size (or by
//! data actually present in it), arithmetic on sizes and strides is checked,
//! and deeply nested pickled values are dropped iteratively.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::rc::Rc;

/// One tensor of a state dict, materialised contiguous (C order) as f32.
#[derive(Debug, Clone, PartialEq)]
pub struct TorchTensor {
    /// Dimensions, outermost first; empty for a 0-dim (scalar) tensor.
    pub shape: Vec<usize>,
    /// Elements in C (row-major) order, converted to f32 whatever the stored
    /// dtype; its length is the product of `shape` (1 for a 0-dim tensor).
    pub values: Vec<f32>,
}

/// Reads the state dict stored in the PyTorch checkpoint at `path`.
///
/// Both the zip format (torch >= 1.6) and the legacy `torch.save` stream are
/// accepted (see the module documentation).
///
/// The pickled top-level object must be a dict. The state dict is chosen as
/// follows, first match wins:
/// 1. the top-level dict itself, if it is non-empty, all its keys are strings
///    and all its values are tensors (a bare state dict);
/// 2. otherwise the value under `"state_dict"`, then the value under
///    `"model"`, if it is such a dict of tensors (a training checkpoint).
///
/// Entries are returned in file (insertion) order, with one leading
/// `"module."` (as added by `DataParallel`) stripped from each key. Every
/// supported storage type (Float, Double, Half, BFloat16, Long, Int, Short,
/// Char, Byte, Bool) is converted to f32; bools become 0.0 / 1.0.
///
/// # Errors
/// A message (without the path, which the caller adds) when the file cannot be
/// read, is not a PyTorch file, is truncated, uses an unsupported pickle opcode
/// or storage type, holds no state dict, or a tensor's size/stride/offset does
/// not fit its storage.
pub fn read_state_dict(path: &Path) -> Result<Vec<(String, TorchTensor)>, String> {
    let mut file = File::open(path).map_err(|e| format!("cannot open file: {e}"))?;
    let file_len = file.metadata().map_err(|e| format!("cannot stat file: {e}"))?.len();
    let mut head = [0u8; 4];
    let got = read_up_to(&mut file, &mut head).map_err(|e| format!("cannot read file: {e}"))?;
    let head = head.get(..got).unwrap_or(&[]);
    if head.starts_with(b"PK") {
        drop(file);
        read_zip(path, file_len)
    } else if head.first() == Some(&0x80) {
        drop(file);
        let data = std::fs::read(path).map_err(|e| format!("cannot read file: {e}"))?;
        read_legacy(&data)
    } else {
        Err("not a PyTorch file: neither a zip archive nor a legacy torch.save stream".into())
    }
}

/// Fills `buf` as far as the reader allows; returns the number of bytes read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let Some(rest) = buf.get_mut(n..) else { break };
        match r.read(rest) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

// ---------------------------------------------------------------------------
// Element types

/// Element type of a typed torch storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DType {
    F32,
    F64,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
}

impl DType {
    /// Maps a `torch.<Name>Storage` class name to its element type.
    fn from_storage_name(name: &str) -> Option<Self> {
        Some(match name {
            "FloatStorage" => DType::F32,
            "DoubleStorage" => DType::F64,
            "HalfStorage" => DType::F16,
            "BFloat16Storage" => DType::BF16,
            "LongStorage" => DType::I64,
            "IntStorage" => DType::I32,
            "ShortStorage" => DType::I16,
            "CharStorage" => DType::I8,
            "ByteStorage" => DType::U8,
            "BoolStorage" => DType::Bool,
            _ => return None,
        })
    }

    /// Size of one element in bytes.
    fn size(self) -> usize {
        match self {
            DType::F64 | DType::I64 => 8,
            DType::F32 | DType::I32 => 4,
            DType::F16 | DType::BF16 | DType::I16 => 2,
            DType::I8 | DType::U8 | DType::Bool => 1,
        }
    }
}

/// Converts IEEE half-precision bits to f32 (exact, including subnormals,
/// infinities and NaN).
fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let mant = u32::from(h & 0x3ff);
    let bits = if exp == 0 {
        if mant == 0 {
            sign
        } else {
            // Subnormal: normalise the mantissa.
            let mut e: u32 = 113;
            let mut m = mant;
            while m & 0x400 == 0 {
                m <<= 1;
                e -= 1;
            }
            sign | (e << 23) | ((m & 0x3ff) << 13)
        }
    } else if exp == 0x1f {
        sign | 0x7f80_0000 | (mant << 13)
    } else {
        sign | ((exp + 112) << 23) | (mant << 13)
    };
    f32::from_bits(bits)
}

/// Decodes raw storage bytes (a whole number of elements) to f32.
fn decode(bytes: &[u8], dtype: DType, little: bool) -> Vec<f32> {
    macro_rules! conv {
        ($t:ty, $n:expr, $f:expr) => {
            bytes
                .chunks_exact($n)
                .map(|c| {
                    let a = <[u8; $n]>::try_from(c).unwrap_or([0; $n]);
                    let v = if little {
                        <$t>::from_le_bytes(a)
                    } else {
                        <$t>::from_be_bytes(a)
                    };
                    $f(v)
                })
                .collect()
        };
    }
    match dtype {
        DType::F32 => conv!(f32, 4, |v: f32| v),
        DType::F64 => conv!(f64, 8, |v: f64| v as f32),
        DType::F16 => conv!(u16, 2, f16_to_f32),
        DType::BF16 => conv!(u16, 2, |v: u16| f32::from_bits(u32::from(v) << 16)),
        DType::I64 => conv!(i64, 8, |v: i64| v as f32),
        DType::I32 => conv!(i32, 4, |v: i32| v as f32),
        DType::I16 => conv!(i16, 2, |v: i16| f32::from(v)),
        DType::I8 => bytes.iter().map(|&b| f32::from(b as i8)).collect(),
        DType::U8 => bytes.iter().map(|&b| f32::from(b)).collect(),
        DType::Bool => bytes.iter().map(|&b| if b != 0 { 1.0 } else { 0.0 }).collect(),
    }
}

// ---------------------------------------------------------------------------
// Pickled values

/// A storage referenced by a persistent id.
struct StorageRef {
    /// Key of the root storage (zip entry `data/<key>` or legacy record key).
    key: String,
    dtype: DType,
    /// Element count of the root storage.
    numel: usize,
    /// Legacy storage views: first element of the view within the root.
    view_offset: usize,
    /// Number of elements visible through this reference.
    view_len: usize,
}

/// A tensor as described by the pickle: a strided view of a storage.
struct TensorRef {
    storage: Rc<StorageRef>,
    offset: usize,
    size: Vec<usize>,
    stride: Vec<usize>,
}

/// Callables and classes the unpickler knows about.
enum Global {
    /// `collections.OrderedDict`, `builtins.dict` and similar dict types.
    Dict,
    /// `torch._utils._rebuild_tensor_v2` and the older `_rebuild_tensor`.
    RebuildTensor,
    /// `_rebuild_parameter`, `_rebuild_parameter_with_state`, `Parameter`.
    Parameter,
    /// `torch._utils._rebuild_from_type_v2(func, type, args, state)`.
    RebuildFromType,
    /// `torch.Size`.
    Size,
    /// A supported typed storage class.
    StorageType(DType),
    /// A `torch.*Storage` class that is not supported.
    UnknownStorage(String),
    /// Anything else, by `module.name`.
    Other(String),
}

impl Global {
    fn resolve(module: &str, name: &str) -> Self {
        match (module, name) {
            ("collections", "OrderedDict" | "defaultdict") | ("builtins" | "__builtin__", "dict") => Global::Dict,
            ("torch._utils", "_rebuild_tensor_v2" | "_rebuild_tensor") => Global::RebuildTensor,
            ("torch._utils", "_rebuild_parameter" | "_rebuild_parameter_with_state") | ("torch.nn.parameter", "Parameter") => {
                Global::Parameter
            }
            ("torch._utils", "_rebuild_from_type_v2") => Global::RebuildFromType,
            ("torch", "Size") => Global::Size,
            ("torch" | "torch.cuda", n) if n.ends_with("Storage") => match DType::from_storage_name(n) {
                Some(d) => Global::StorageType(d),
                None => Global::UnknownStorage(format!("{module}.{name}")),
            },
            _ => Global::Other(format!("{module}.{name}")),
        }
    }

    fn name(&self) -> String {
        match self {
            Global::Dict => "dict type".into(),
            Global::RebuildTensor => "torch._utils._rebuild_tensor".into(),
            Global::Parameter => "torch parameter constructor".into(),
            Global::RebuildFromType => "torch._utils._rebuild_from_type_v2".into(),
            Global::Size => "torch.Size".into(),
            Global::StorageType(d) => format!("torch storage {d:?}"),
            Global::UnknownStorage(n) | Global::Other(n) => n.clone(),
        }
    }
}

/// Dict with insertion order and O(1) lookup of string keys.
#[derive(Default)]
struct Dict {
    entries: Vec<(Value, Value)>,
    index: HashMap<Rc<str>, usize>,
}

impl Dict {
    fn insert(&mut self, k: Value, v: Value) {
        if let Value::Str(s) = &k {
            if let Some(&i) = self.index.get(s) {
                if let Some(e) = self.entries.get_mut(i) {
                    e.1 = v;
                    return;
                }
            }
            self.index.insert(s.clone(), self.entries.len());
        }
        self.entries.push((k, v));
    }

    fn get(&self, key: &str) -> Option<&Value> {
        let i = *self.index.get(key)?;
        self.entries.get(i).map(|e| &e.1)
    }
}

/// A value on the pickle stack. Containers are reference counted so that memo
/// lookups are cheap and mutations are shared, like Python objects.
#[derive(Clone)]
enum Value {
    None,
    Bool(bool),
    Int(i64),
    BigInt(i128),
    Float(f64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    Tuple(Rc<Vec<Value>>),
    List(Rc<RefCell<Vec<Value>>>),
    Dict(Rc<RefCell<Dict>>),
    Global(Rc<Global>),
    Storage(Rc<StorageRef>),
    Tensor(Rc<TensorRef>),
    /// Something this reader does not model; carries a description.
    Object(Rc<str>),
}

impl Drop for Value {
    /// Drops nested containers iteratively so that maliciously deep nesting
    /// cannot overflow the call stack.
    fn drop(&mut self) {
        let mut work = Vec::new();
        detach_children(self, &mut work);
        while let Some(mut v) = work.pop() {
            detach_children(&mut v, &mut work);
        }
    }
}

/// Moves the children of a uniquely owned container into `out`.
fn detach_children(v: &mut Value, out: &mut Vec<Value>) {
    match v {
        Value::Tuple(rc) => {
            if let Some(items) = Rc::get_mut(rc) {
                out.append(items);
            }
        }
        Value::List(rc) => {
            if let Some(cell) = Rc::get_mut(rc) {
                out.append(cell.get_mut());
            }
        }
        Value::Dict(rc) => {
            if let Some(cell) = Rc::get_mut(rc) {
                let d = cell.get_mut();
                d.index.clear();
                for (k, v) in d.entries.drain(..) {
                    out.push(k);
                    out.push(v);
                }
            }
        }
        _ => {}
    }
}

impl Value {
    /// Short, non-recursive description for error messages.
    fn describe(&self) -> String {
        match self {
            Value::None => "None".into(),
            Value::Bool(b) => format!("bool {b}"),
            Value::Int(i) => format!("int {i}"),
            Value::BigInt(i) => format!("int {i}"),
            Value::Float(f) => format!("float {f}"),
            Value::Str(s) => format!("str {:?}", truncate_str(s, 40)),
            Value::Bytes(b) => format!("bytes of length {}", b.len()),
            Value::Tuple(t) => format!("tuple of length {}", t.len()),
            Value::List(_) => "list".into(),
            Value::Dict(_) => "dict".into(),
            Value::Global(g) => format!("global {}", g.name()),
            Value::Storage(_) => "storage".into(),
            Value::Tensor(_) => "tensor".into(),
            Value::Object(d) => d.to_string(),
        }
    }

    /// Elements of a tuple or list (shallow clones).
    fn seq(&self) -> Option<Vec<Value>> {
        match self {
            Value::Tuple(t) => Some(t.as_ref().clone()),
            Value::List(l) => l.try_borrow().ok().map(|l| l.clone()),
            _ => None,
        }
    }

    fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

fn truncate_str(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

/// Converts a pickled integer to a non-negative `usize`.
fn to_usize(v: &Value, what: &str) -> Result<usize, String> {
    let i = v
        .as_i64()
        .ok_or_else(|| format!("{what}: expected an integer, found {}", v.describe()))?;
    usize::try_from(i).map_err(|_| format!("{what}: invalid value {i}"))
}

/// Converts a pickled tuple/list of integers (or `torch.Size`) to `usize`s.
fn to_usize_vec(v: &Value, what: &str) -> Result<Vec<usize>, String> {
    let items = v.seq().ok_or_else(|| format!("{what}: expected a tuple, found {}", v.describe()))?;
    items.iter().map(|x| to_usize(x, what)).collect()
}

// ---------------------------------------------------------------------------
// Pickle virtual machine

/// Name of a pickle opcode, for error messages.
fn opcode_name(op: u8) -> &'static str {
    match op {
        b'(' => "MARK",
        b'.' => "STOP",
        b'0' => "POP",
        b'1' => "POP_MARK",
        b'2' => "DUP",
        b'F' => "FLOAT",
        b'I' => "INT",
        b'J' => "BININT",
        b'K' => "BININT1",
        b'L' => "LONG",
        b'M' => "BININT2",
        b'N' => "NONE",
        b'P' => "PERSID",
        b'Q' => "BINPERSID",
        b'R' => "REDUCE",
        b'S' => "STRING",
        b'T' => "BINSTRING",
        b'U' => "SHORT_BINSTRING",
        b'V' => "UNICODE",
        b'X' => "BINUNICODE",
        b'a' => "APPEND",
        b'b' => "BUILD",
        b'c' => "GLOBAL",
        b'd' => "DICT",
        b'}' => "EMPTY_DICT",
        b'e' => "APPENDS",
        b'g' => "GET",
        b'h' => "BINGET",
        b'i' => "INST",
        b'j' => "LONG_BINGET",
        b'l' => "LIST",
        b']' => "EMPTY_LIST",
        b'o' => "OBJ",
        b'p' => "PUT",
        b'q' => "BINPUT",
        b'r' => "LONG_BINPUT",
        b's' => "SETITEM",
        b't' => "TUPLE",
        b')' => "EMPTY_TUPLE",
        b'u' => "SETITEMS",
        b'G' => "BINFLOAT",
        b'B' => "BINBYTES",
        b'C' => "SHORT_BINBYTES",
        0x80 => "PROTO",
        0x81 => "NEWOBJ",
        0x82 => "EXT1",
        0x83 => "EXT2",
        0x84 => "EXT4",
        0x85 => "TUPLE1",
        0x86 => "TUPLE2",
        0x87 => "TUPLE3",
        0x88 => "NEWTRUE",
        0x89 => "NEWFALSE",
        0x8a => "LONG1",
        0x8b => "LONG4",
        0x8c => "SHORT_BINUNICODE",
        0x8d => "BINUNICODE8",
        0x8e => "BINBYTES8",
        0x8f => "EMPTY_SET",
        0x90 => "ADDITEMS",
        0x91 => "FROZENSET",
        0x92 => "NEWOBJ_EX",
        0x93 => "STACK_GLOBAL",
        0x94 => "MEMOIZE",
        0x95 => "FRAME",
        0x96 => "BYTEARRAY8",
        0x97 => "NEXT_BUFFER",
        0x98 => "READONLY_BUFFER",
        _ => "unknown",
    }
}

/// Maximum nesting of `_rebuild_from_type_v2` calls.
const MAX_CALL_DEPTH: u32 = 16;

/// Unpickler over an in-memory buffer, starting at `pos`.
struct Unpickler<'a> {
    data: &'a [u8],
    pos: usize,
    stack: Vec<Value>,
    metastack: Vec<Vec<Value>>,
    memo: HashMap<u64, Value>,
    /// Element type of every storage key seen in persistent ids.
    storage_types: HashMap<String, DType>,
}

impl<'a> Unpickler<'a> {
    fn new(data: &'a [u8], pos: usize) -> Self {
        Unpickler {
            data,
            pos,
            stack: Vec::new(),
            metastack: Vec::new(),
            memo: HashMap::new(),
            storage_types: HashMap::new(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let start = self.pos;
        let slice = start
            .checked_add(n)
            .and_then(|end| self.data.get(start..end))
            .ok_or_else(|| format!("truncated data: pickle needs {n} more bytes at offset {start}"))?;
        self.pos = start + slice.len();
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let s = self.take(N)?;
        <[u8; N]>::try_from(s).map_err(|_| "internal error: slice length".to_string())
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.array::<1>()?[0])
    }

    fn len_u32(&mut self) -> Result<usize, String> {
        let n = u32::from_le_bytes(self.array()?);
        usize::try_from(n).map_err(|_| "length too large".to_string())
    }

    fn len_u64(&mut self) -> Result<usize, String> {
        let n = u64::from_le_bytes(self.array()?);
        usize::try_from(n).map_err(|_| format!("truncated data: length {n} exceeds the input"))
    }

    fn line(&mut self) -> Result<&'a str, String> {
        let rest = self.data.get(self.pos..).unwrap_or(&[]);
        let n = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| format!("truncated data: unterminated line at offset {}", self.pos))?;
        let line = self.take(n)?;
        self.pos += 1;
        std::str::from_utf8(line).map_err(|_| "GLOBAL: name is not valid UTF-8".to_string())
    }

    fn pop(&mut self) -> Result<Value, String> {
        self.stack
            .pop()
            .ok_or_else(|| format!("malformed pickle: stack underflow at offset {}", self.pos))
    }

    fn pop_mark(&mut self) -> Result<Vec<Value>, String> {
        let prev = self
            .metastack
            .pop()
            .ok_or_else(|| format!("malformed pickle: no MARK at offset {}", self.pos))?;
        Ok(std::mem::replace(&mut self.stack, prev))
    }

    fn top(&self) -> Result<&Value, String> {
        self.stack
            .last()
            .ok_or_else(|| format!("malformed pickle: empty stack at offset {}", self.pos))
    }

    fn memo_get(&self, idx: u64) -> Result<Value, String> {
        self.memo
            .get(&idx)
            .cloned()
            .ok_or_else(|| format!("malformed pickle: memo entry {idx} missing"))
    }

    fn memo_put(&mut self, idx: u64) -> Result<(), String> {
        let v = self.top()?.clone();
        self.memo.insert(idx, v);
        Ok(())
    }

    fn push_str(&mut self, n: usize) -> Result<(), String> {
        let s = self.take(n)?;
        let s = String::from_utf8_lossy(s);
        self.stack.push(Value::Str(Rc::from(s.as_ref())));
        Ok(())
    }

    fn push_bytes(&mut self, n: usize) -> Result<(), String> {
        let s = self.take(n)?;
        self.stack.push(Value::Bytes(Rc::from(s)));
        Ok(())
    }

    fn push_long(&mut self, n: usize) -> Result<(), String> {
        let bytes = self.take(n)?;
        let v = if n > 16 {
            Value::Object(Rc::from("integer wider than 128 bits"))
        } else {
            let mut buf = [0u8; 16];
            let negative = bytes.last().is_some_and(|&b| b & 0x80 != 0);
            if negative {
                buf = [0xff; 16];
            }
            for (d, s) in buf.iter_mut().zip(bytes) {
                *d = *s;
            }
            let i = i128::from_le_bytes(buf);
            match i64::try_from(i) {
                Ok(small) => Value::Int(small),
                Err(_) => Value::BigInt(i),
            }
        };
        self.stack.push(v);
        Ok(())
    }

    /// Adds key/value pairs to the dict on top of the stack.
    fn set_items(&mut self, items: Vec<Value>) -> Result<(), String> {
        if !items.len().is_multiple_of(2) {
            return Err("malformed pickle: odd number of items for SETITEMS".into());
        }
        match self.top()? {
            Value::Dict(d) => {
                let mut d = d
                    .try_borrow_mut()
                    .map_err(|_| "malformed pickle: dict already in use".to_string())?;
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    d.insert(k, v);
                }
                Ok(())
            }
            Value::Object(_) => Ok(()),
            other => Err(format!("malformed pickle: SETITEM(S) on {}", other.describe())),
        }
    }

    /// Appends items to the list on top of the stack.
    fn append_items(&mut self, items: Vec<Value>) -> Result<(), String> {
        match self.top()? {
            Value::List(l) => {
                l.try_borrow_mut()
                    .map_err(|_| "malformed pickle: list already in use".to_string())?
                    .extend(items);
                Ok(())
            }
            Value::Object(_) => Ok(()),
            other => Err(format!("malformed pickle: APPEND(S) on {}", other.describe())),
        }
    }

    /// Runs the pickle machine until STOP and returns the unpickled value.
    fn load(&mut self) -> Result<Value, String> {
        loop {
            let at = self.pos;
            let op = self.u8()?;
            match op {
                0x80 => {
                    let proto = self.u8()?;
                    if proto > 5 {
                        return Err(format!("unsupported pickle protocol {proto}"));
                    }
                }
                0x95 => {
                    self.take(8)?;
                }
                b'.' => return self.pop(),
                b'(' => {
                    let cur = std::mem::take(&mut self.stack);
                    self.metastack.push(cur);
                }
                b'}' => self.stack.push(Value::Dict(Rc::new(RefCell::new(Dict::default())))),
                b']' | 0x8f => self.stack.push(Value::List(Rc::new(RefCell::new(Vec::new())))),
                b')' => self.stack.push(Value::Tuple(Rc::new(Vec::new()))),
                b't' | 0x91 => {
                    let items = self.pop_mark()?;
                    self.stack.push(Value::Tuple(Rc::new(items)));
                }
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    if self.stack.len() < n {
                        return Err(format!("malformed pickle: stack underflow at offset {at}"));
                    }
                    let items = self.stack.split_off(self.stack.len() - n);
                    self.stack.push(Value::Tuple(Rc::new(items)));
                }
                b'l' => {
                    let items = self.pop_mark()?;
                    self.stack.push(Value::List(Rc::new(RefCell::new(items))));
                }
                b'd' => {
                    let items = self.pop_mark()?;
                    self.stack.push(Value::Dict(Rc::new(RefCell::new(Dict::default()))));
                    self.set_items(items)?;
                }
                b'q' => {
                    let i = self.u8()?;
                    self.memo_put(u64::from(i))?;
                }
                b'r' => {
                    let i = u32::from_le_bytes(self.array()?);
                    self.memo_put(u64::from(i))?;
                }
                0x94 => {
                    let i = self.memo.len() as u64;
                    self.memo_put(i)?;
                }
                b'h' => {
                    let i = self.u8()?;
                    let v = self.memo_get(u64::from(i))?;
                    self.stack.push(v);
                }
                b'j' => {
                    let i = u32::from_le_bytes(self.array()?);
                    let v = self.memo_get(u64::from(i))?;
                    self.stack.push(v);
                }
                b'X' => {
                    let n = self.len_u32()?;
                    self.push_str(n)?;
                }
                0x8c => {
                    let n = usize::from(self.u8()?);
                    self.push_str(n)?;
                }
                0x8d => {
                    let n = self.len_u64()?;
                    self.push_str(n)?;
                }
                b'T' => {
                    let n = i32::from_le_bytes(self.array()?);
                    let n = usize::try_from(n).map_err(|_| "malformed pickle: negative BINSTRING length".to_string())?;
                    self.push_str(n)?;
                }
                b'U' => {
                    let n = usize::from(self.u8()?);
                    self.push_str(n)?;
                }
                b'B' => {
                    let n = self.len_u32()?;
                    self.push_bytes(n)?;
                }
                b'C' => {
                    let n = usize::from(self.u8()?);
                    self.push_bytes(n)?;
                }
                0x8e => {
                    let n = self.len_u64()?;
                    self.push_bytes(n)?;
                }
                b'J' => {
                    let i = i32::from_le_bytes(self.array()?);
                    self.stack.push(Value::Int(i64::from(i)));
                }
                b'K' => {
                    let i = self.u8()?;
                    self.stack.push(Value::Int(i64::from(i)));
                }
                b'M' => {
                    let i = u16::from_le_bytes(self.array()?);
                    self.stack.push(Value::Int(i64::from(i)));
                }
                0x8a => {
                    let n = usize::from(self.u8()?);
                    self.push_long(n)?;
                }
                0x8b => {
                    let n = i32::from_le_bytes(self.array()?);
                    let n = usize::try_from(n).map_err(|_| "malformed pickle: negative LONG4 length".to_string())?;
                    self.push_long(n)?;
                }
                b'G' => {
                    let f = f64::from_be_bytes(self.array()?);
                    self.stack.push(Value::Float(f));
                }
                b'N' => self.stack.push(Value::None),
                0x88 => self.stack.push(Value::Bool(true)),
                0x89 => self.stack.push(Value::Bool(false)),
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    self.stack.push(Value::Global(Rc::new(Global::resolve(module, name))));
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    let (Some(m), Some(n)) = (module.as_str(), name.as_str()) else {
                        return Err("malformed pickle: STACK_GLOBAL needs two strings".into());
                    };
                    let g = Global::resolve(m, n);
                    self.stack.push(Value::Global(Rc::new(g)));
                }
                b'R' | 0x81 => {
                    let args = self.pop()?;
                    let func = self.pop()?;
                    let v = call(&func, &args, 0)?;
                    self.stack.push(v);
                }
                0x92 => {
                    let _kwargs = self.pop()?;
                    let args = self.pop()?;
                    let func = self.pop()?;
                    let v = call(&func, &args, 0)?;
                    self.stack.push(v);
                }
                b'b' => {
                    // BUILD sets instance state (e.g. `_metadata` on an
                    // OrderedDict state dict); it carries nothing needed here.
                    let _state = self.pop()?;
                    self.top()?;
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    self.set_items(vec![k, v])?;
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    self.set_items(items)?;
                }
                b'a' => {
                    let v = self.pop()?;
                    self.append_items(vec![v])?;
                }
                b'e' | 0x90 => {
                    let items = self.pop_mark()?;
                    self.append_items(items)?;
                }
                b'Q' => {
                    let pid = self.pop()?;
                    let v = self.persistent_load(&pid)?;
                    self.stack.push(v);
                }
                b'0' => {
                    if self.stack.pop().is_none() {
                        self.pop_mark()?;
                    }
                }
                b'1' => {
                    self.pop_mark()?;
                }
                b'2' => {
                    let v = self.top()?.clone();
                    self.stack.push(v);
                }
                _ => return Err(format!("unsupported pickle opcode 0x{op:02x} ({}) at offset {at}", opcode_name(op))),
            }
        }
    }

    /// Resolves a persistent id `('storage', StorageType, key, location, numel
    /// [, view_metadata])` to a storage reference.
    fn persistent_load(&mut self, pid: &Value) -> Result<Value, String> {
        let Some(items) = pid.seq() else {
            return Ok(Value::Object(Rc::from("persistent object")));
        };
        if items.first().and_then(Value::as_str) != Some("storage") {
            return Ok(Value::Object(Rc::from("persistent object")));
        }
        let field = |i: usize| {
            items
                .get(i)
                .ok_or_else(|| format!("malformed storage id: only {} fields", items.len()))
        };
        let dtype = match field(1)? {
            Value::Global(g) => match g.as_ref() {
                Global::StorageType(d) => *d,
                other => return Err(format!("unknown storage type {}", other.name())),
            },
            other => return Err(format!("unknown storage type {}", other.describe())),
        };
        let key = match field(2)? {
            Value::Str(s) => s.to_string(),
            Value::Int(i) => i.to_string(),
            other => return Err(format!("malformed storage id: key is {}", other.describe())),
        };
        let numel = to_usize(field(4)?, "storage element count")?;
        let (view_offset, view_len) = match items.get(5) {
            None | Some(Value::None) => (0, numel),
            Some(view) => {
                let v = view
                    .seq()
                    .filter(|v| v.len() == 3)
                    .ok_or_else(|| format!("malformed storage view {}", view.describe()))?;
                let mut it = v.iter().skip(1);
                let off = it.next().map_or(Ok(0), |x| to_usize(x, "storage view offset"))?;
                let len = it.next().map_or(Ok(0), |x| to_usize(x, "storage view size"))?;
                (off, len)
            }
        };
        if let Some(&prev) = self.storage_types.get(&key) {
            if prev != dtype {
                return Err(format!("storage {key} used with two element types ({prev:?} and {dtype:?})"));
            }
        } else {
            self.storage_types.insert(key.clone(), dtype);
        }
        Ok(Value::Storage(Rc::new(StorageRef {
            key,
            dtype,
            numel,
            view_offset,
            view_len,
        })))
    }
}

/// Applies a callable (REDUCE / NEWOBJ) to its argument tuple.
fn call(func: &Value, args: &Value, depth: u32) -> Result<Value, String> {
    let Value::Global(g) = func else {
        return Ok(Value::Object(Rc::from(format!("result of calling {}", func.describe()))));
    };
    let args = args.seq().unwrap_or_default();
    match g.as_ref() {
        Global::Dict => {
            let mut d = Dict::default();
            if let Some(pairs) = args.first().and_then(Value::seq) {
                for pair in pairs {
                    if let Some(kv) = pair.seq().filter(|kv| kv.len() == 2) {
                        let mut it = kv.into_iter();
                        if let (Some(k), Some(v)) = (it.next(), it.next()) {
                            d.insert(k, v);
                        }
                    }
                }
            }
            Ok(Value::Dict(Rc::new(RefCell::new(d))))
        }
        Global::RebuildTensor => rebuild_tensor(&args),
        Global::Parameter => Ok(args.first().cloned().unwrap_or_else(|| Value::Object(Rc::from("empty Parameter")))),
        Global::RebuildFromType => {
            if depth >= MAX_CALL_DEPTH {
                return Err("malformed pickle: _rebuild_from_type_v2 nested too deeply".into());
            }
            match (args.first(), args.get(2)) {
                (Some(f), Some(a)) => call(f, a, depth + 1),
                _ => Err("_rebuild_from_type_v2: expected (func, type, args, state)".into()),
            }
        }
        Global::Size => Ok(args.first().cloned().unwrap_or_else(|| Value::Tuple(Rc::new(Vec::new())))),
        other => Ok(Value::Object(Rc::from(format!("object made by {}", other.name())))),
    }
}

/// `_rebuild_tensor_v2(storage, storage_offset, size, stride, ...)` and
/// `_rebuild_tensor(storage, storage_offset, size, stride)`.
fn rebuild_tensor(args: &[Value]) -> Result<Value, String> {
    let arg = |i: usize| {
        args.get(i)
            .ok_or_else(|| format!("_rebuild_tensor: expected at least 4 arguments, got {}", args.len()))
    };
    let storage = match arg(0)? {
        Value::Storage(s) => s.clone(),
        other => return Err(format!("_rebuild_tensor: expected a storage, found {}", other.describe())),
    };
    let offset = to_usize(arg(1)?, "tensor storage offset")?;
    let size = to_usize_vec(arg(2)?, "tensor size")?;
    let stride = to_usize_vec(arg(3)?, "tensor stride")?;
    if size.len() != stride.len() {
        return Err(format!("tensor size has {} dimensions but stride has {}", size.len(), stride.len()));
    }
    Ok(Value::Tensor(Rc::new(TensorRef {
        storage,
        offset,
        size,
        stride,
    })))
}

// ---------------------------------------------------------------------------
// State dict selection

/// Returns the entries of `d` if it is a non-empty dict of string → tensor,
/// otherwise a reason why it is not.
fn as_state_dict(d: &Dict) -> Result<Vec<(String, Rc<TensorRef>)>, String> {
    if d.entries.is_empty() {
        return Err("it is empty".into());
    }
    let mut out = Vec::with_capacity(d.entries.len());
    for (k, v) in &d.entries {
        let Some(key) = k.as_str() else {
            return Err(format!("it has a non-string key ({})", k.describe()));
        };
        let Value::Tensor(t) = v else {
            return Err(format!("key {:?} holds {}, not a tensor", truncate_str(key, 80), v.describe()));
        };
        out.push((key.to_string(), t.clone()));
    }
    Ok(out)
}

/// Picks the state dict: the top-level dict, else its `"state_dict"`, else its
/// `"model"` entry (first dict of tensors wins).
fn select_state_dict(top: &Value) -> Result<Vec<(String, Rc<TensorRef>)>, String> {
    let Value::Dict(d) = top else {
        return Err(format!("no state dict: the pickled object is {}, not a dict", top.describe()));
    };
    let d = d.try_borrow().map_err(|_| "internal error: dict borrowed".to_string())?;
    let mut reasons = Vec::new();
    match as_state_dict(&d) {
        Ok(sd) => return Ok(sd),
        Err(why) => reasons.push(format!("top-level dict: {why}")),
    }
    for name in ["state_dict", "model"] {
        match d.get(name) {
            Some(Value::Dict(inner)) => {
                let inner = inner.try_borrow().map_err(|_| "internal error: dict borrowed".to_string())?;
                match as_state_dict(&inner) {
                    Ok(sd) => return Ok(sd),
                    Err(why) => reasons.push(format!("{name:?}: {why}")),
                }
            }
            Some(other) => reasons.push(format!("{name:?}: holds {}", other.describe())),
            None => {}
        }
    }
    Err(format!(
        "no state dict (a dict of tensors at the top level or under \"state_dict\" or \"model\") found: {}",
        reasons.join("; ")
    ))
}

// ---------------------------------------------------------------------------
// Materialisation

/// Provides the raw bytes of root storages.
trait StorageSource {
    /// Bytes of storage `key`, which must hold at least `need` bytes.
    fn bytes(&mut self, key: &str, need: usize) -> Result<&[u8], String>;
    /// Called once no remaining tensor uses `key`.
    fn release(&mut self, key: &str);
}

/// Gathers `t` from the bytes of its root storage into a contiguous tensor.
fn materialise(t: &TensorRef, bytes: &[u8], little: bool, budget: &mut usize) -> Result<TorchTensor, String> {
    let st = &t.storage;
    let es = st.dtype.size();
    st.view_offset
        .checked_add(st.view_len)
        .filter(|&e| e <= st.numel)
        .ok_or_else(|| format!("storage {} view exceeds its storage", st.key))?;
    let numel = t
        .size
        .iter()
        .try_fold(1usize, |acc, &s| acc.checked_mul(s))
        .ok_or_else(|| format!("tensor size {:?} overflows", t.size))?;
    if numel > *budget {
        return Err(format!("tensor of {numel} elements exceeds what the file can hold"));
    }
    *budget -= numel;
    let shape = t.size.clone();
    if numel == 0 {
        return Ok(TorchTensor { shape, values: Vec::new() });
    }
    // Largest element index touched, relative to the view start.
    let mut last = t.offset;
    for (&s, &stride) in t.size.iter().zip(&t.stride) {
        last = s
            .saturating_sub(1)
            .checked_mul(stride)
            .and_then(|x| last.checked_add(x))
            .ok_or_else(|| "tensor stride overflows".to_string())?;
    }
    if last >= st.view_len {
        return Err(format!(
            "tensor (offset {}, size {:?}, stride {:?}) exceeds its storage {} of {} elements",
            t.offset, t.size, t.stride, st.key, st.view_len
        ));
    }
    let start = st.view_offset + t.offset;
    let end = st.view_offset + last + 1;
    let region = start
        .checked_mul(es)
        .zip(end.checked_mul(es))
        .and_then(|(a, b)| bytes.get(a..b))
        .ok_or_else(|| format!("truncated data: storage {} is too short", st.key))?;
    let region = decode(region, st.dtype, little);
    if is_contiguous(&t.size, &t.stride) {
        return Ok(TorchTensor { shape, values: region });
    }
    let nd = t.size.len();
    let mut idx = vec![0usize; nd];
    let mut lin = 0usize;
    let mut values = Vec::with_capacity(numel);
    for _ in 0..numel {
        let v = region
            .get(lin)
            .ok_or_else(|| "internal error: strided index out of range".to_string())?;
        values.push(*v);
        for d in (0..nd).rev() {
            let (Some(i), Some(&s), Some(&stride)) = (idx.get_mut(d), t.size.get(d), t.stride.get(d)) else {
                break;
            };
            *i += 1;
            lin = lin.wrapping_add(stride);
            if *i < s {
                break;
            }
            lin = lin.wrapping_sub(stride.wrapping_mul(s));
            *i = 0;
        }
    }
    Ok(TorchTensor { shape, values })
}

/// Whether `(size, stride)` describes a C-contiguous layout.
fn is_contiguous(size: &[usize], stride: &[usize]) -> bool {
    let mut expected = 1usize;
    for (&s, &st) in size.iter().zip(stride).rev() {
        if s != 1 && st != expected {
            return false;
        }
        expected = expected.saturating_mul(s);
    }
    true
}

/// Materialises all entries in order, releasing storages once unused.
fn materialise_all(
    entries: Vec<(String, Rc<TensorRef>)>,
    little: bool,
    file_len: u64,
    source: &mut dyn StorageSource,
) -> Result<Vec<(String, TorchTensor)>, String> {
    // Output may exceed the stored data only through shared storages or
    // zero strides; cap it at two elements per file byte.
    let mut budget = usize::try_from(file_len.saturating_mul(2)).unwrap_or(usize::MAX);
    let mut uses: HashMap<String, usize> = HashMap::new();
    for (_, t) in &entries {
        *uses.entry(t.storage.key.clone()).or_insert(0) += 1;
    }
    let mut out = Vec::with_capacity(entries.len());
    for (key, t) in entries {
        let st = &t.storage;
        let need = st
            .numel
            .checked_mul(st.dtype.size())
            .ok_or_else(|| format!("storage {} is too large", st.key))?;
        let tensor = {
            let bytes = source.bytes(&st.key, need)?;
            if bytes.len() < need {
                return Err(format!(
                    "truncated data: storage {} has {} bytes, expected {need}",
                    st.key,
                    bytes.len()
                ));
            }
            materialise(&t, bytes, little, &mut budget).map_err(|e| format!("tensor {key:?}: {e}"))?
        };
        if let Some(n) = uses.get_mut(&st.key) {
            *n -= 1;
            if *n == 0 {
                source.release(&st.key);
            }
        }
        let key = key.strip_prefix("module.").map(str::to_string).unwrap_or(key);
        out.push((key, tensor));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Legacy format

/// Magic number opening a legacy `torch.save` stream.
const LEGACY_MAGIC: i128 = 0x1950a86a20f9469cfc6c;
/// Protocol version of the legacy stream.
const LEGACY_PROTOCOL: i64 = 1001;

/// Storages of a legacy file: slices of the in-memory file.
struct LegacySource<'a> {
    storages: HashMap<String, &'a [u8]>,
}

impl StorageSource for LegacySource<'_> {
    fn bytes(&mut self, key: &str, _need: usize) -> Result<&[u8], String> {
        self.storages
            .get(key)
            .copied()
            .ok_or_else(|| format!("truncated data: storage {key} is missing"))
    }

    fn release(&mut self, _key: &str) {}
}

/// Unpickles one value starting at `pos`; returns it and the end position.
fn load_one(data: &[u8], pos: usize) -> Result<(Value, usize), String> {
    let mut u = Unpickler::new(data, pos);
    let v = u.load()?;
    Ok((v, u.pos))
}

fn read_legacy(data: &[u8]) -> Result<Vec<(String, TorchTensor)>, String> {
    let not_torch = |e: String| format!("not a PyTorch file: {e}");
    let (magic, pos) = load_one(data, 0).map_err(not_torch)?;
    if !matches!(magic, Value::BigInt(m) if m == LEGACY_MAGIC) {
        return Err(not_torch(format!(
            "pickle stream does not start with the torch magic number (found {})",
            magic.describe()
        )));
    }
    let (proto, pos) = load_one(data, pos)?;
    if proto.as_i64() != Some(LEGACY_PROTOCOL) {
        return Err(format!(
            "unsupported legacy protocol version ({}, expected {LEGACY_PROTOCOL})",
            proto.describe()
        ));
    }
    let (sys_info, pos) = load_one(data, pos)?;
    let little = match &sys_info {
        Value::Dict(d) => match d.try_borrow().ok().and_then(|d| d.get("little_endian").cloned()) {
            Some(Value::Bool(b)) => b,
            _ => true,
        },
        _ => true,
    };
    let mut u = Unpickler::new(data, pos);
    let obj = u.load()?;
    let mut pos = u.pos;
    let storage_types = std::mem::take(&mut u.storage_types);
    drop(u);
    let (keys, p) = load_one(data, pos)?;
    pos = p;
    let keys = keys
        .seq()
        .ok_or_else(|| format!("storage key list is {}, not a list", keys.describe()))?;
    let mut storages = HashMap::new();
    for k in &keys {
        let key = k.as_str().ok_or_else(|| format!("storage key is {}, not a string", k.describe()))?;
        let dtype = *storage_types
            .get(key)
            .ok_or_else(|| format!("storage {key} is listed but never referenced"))?;
        let count_bytes: [u8; 8] = pos
            .checked_add(8)
            .and_then(|e| data.get(pos..e))
            .and_then(|s| <[u8; 8]>::try_from(s).ok())
            .ok_or_else(|| format!("truncated data: storage {key} header missing"))?;
        pos += 8;
        let count = if little {
            i64::from_le_bytes(count_bytes)
        } else {
            i64::from_be_bytes(count_bytes)
        };
        let len = usize::try_from(count)
            .ok()
            .and_then(|c| c.checked_mul(dtype.size()))
            .ok_or_else(|| format!("storage {key} has invalid element count {count}"))?;
        let bytes = pos
            .checked_add(len)
            .and_then(|e| data.get(pos..e))
            .ok_or_else(|| format!("truncated data: storage {key} needs {len} bytes at offset {pos}"))?;
        pos += len;
        storages.insert(key.to_string(), bytes);
    }
    let entries = select_state_dict(&obj)?;
    drop(obj);
    let mut source = LegacySource { storages };
    materialise_all(entries, little, data.len() as u64, &mut source)
}

// ---------------------------------------------------------------------------
// Zip format

/// Storages of a zip archive, read on demand and dropped when unused.
struct ZipSource {
    archive: zip::ZipArchive<File>,
    prefix: String,
    file_len: u64,
    cache: HashMap<String, Vec<u8>>,
}

/// Reads at most `limit` bytes of entry `name`.
fn read_entry(archive: &mut zip::ZipArchive<File>, name: &str, limit: u64, file_len: u64) -> Result<Vec<u8>, String> {
    let entry = archive
        .by_name(name)
        .map_err(|e| format!("archive entry {name} missing or unreadable: {e}"))?;
    let cap = entry.size().min(limit).min(file_len);
    let mut buf = Vec::with_capacity(usize::try_from(cap).unwrap_or(0));
    entry
        .take(limit)
        .read_to_end(&mut buf)
        .map_err(|e| format!("truncated data: cannot read archive entry {name}: {e}"))?;
    Ok(buf)
}

impl StorageSource for ZipSource {
    fn bytes(&mut self, key: &str, need: usize) -> Result<&[u8], String> {
        if !self.cache.contains_key(key) {
            let name = format!("{}data/{key}", self.prefix);
            let data = read_entry(&mut self.archive, &name, need as u64, self.file_len)?;
            self.cache.insert(key.to_string(), data);
        }
        self.cache
            .get(key)
            .map(Vec::as_slice)
            .ok_or_else(|| "internal error: storage cache".to_string())
    }

    fn release(&mut self, key: &str) {
        self.cache.remove(key);
    }
}

fn read_zip(path: &Path, file_len: u64) -> Result<Vec<(String, TorchTensor)>, String> {
    let file = File::open(path).map_err(|e| format!("cannot open file: {e}"))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| format!("not a PyTorch file (unreadable zip archive): {e}"))?;
    let pkl = archive
        .file_names()
        .filter(|n| *n == "data.pkl" || n.ends_with("/data.pkl"))
        .min_by_key(|n| n.matches('/').count())
        .map(str::to_string)
        .ok_or_else(|| "not a PyTorch file: zip archive has no data.pkl".to_string())?;
    let prefix = pkl.strip_suffix("data.pkl").unwrap_or("").to_string();
    let byteorder_name = format!("{prefix}byteorder");
    let little = if archive.index_for_name(&byteorder_name).is_some() {
        let b = read_entry(&mut archive, &byteorder_name, 16, file_len)?;
        match String::from_utf8_lossy(&b).trim() {
            "little" => true,
            "big" => false,
            other => return Err(format!("unknown byteorder {other:?}")),
        }
    } else {
        true
    };
    // A deflated pickle can be at most ~1032 times its compressed size.
    let pkl_limit = file_len.saturating_mul(1100);
    let pickle = read_entry(&mut archive, &pkl, pkl_limit, file_len)?;
    let obj = Unpickler::new(&pickle, 0).load()?;
    let entries = select_state_dict(&obj)?;
    drop(obj);
    drop(pickle);
    let mut source = ZipSource {
        archive,
        prefix,
        file_len,
        cache: HashMap::new(),
    };
    materialise_all(entries, little, file_len, &mut source)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The shared folder: `$NAS_SHARED`, else `<manifest>/../../shared`, else `/work/shared`.
    fn shared_dir() -> PathBuf {
        let candidates = [
            std::env::var_os("NAS_SHARED").map(PathBuf::from),
            Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared")),
            Some(PathBuf::from("/work/shared")),
        ];
        candidates.into_iter().flatten().find(|p| p.is_dir()).unwrap_or_else(|| {
            panic!("shared folder not found: set NAS_SHARED or provide <CARGO_MANIFEST_DIR>/../../shared or /work/shared")
        })
    }

    fn weights(name: &str) -> PathBuf {
        let p = shared_dir().join("weights").join(name);
        assert!(p.is_file(), "test weights missing: {}", p.display());
        p
    }

    /// A unique temporary file holding `bytes`, removed on drop.
    struct TempFile(PathBuf);
    impl TempFile {
        fn new(bytes: &[u8]) -> Self {
            static N: AtomicUsize = AtomicUsize::new(0);
            let n = N.fetch_add(1, Ordering::SeqCst);
            let p = std::env::temp_dir().join(format!("torch_pickle_test_{}_{n}.pth", std::process::id()));
            std::fs::write(&p, bytes).expect("write temp file");
            TempFile(p)
        }
    }
    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn read_bytes(bytes: &[u8]) -> Result<Vec<(String, TorchTensor)>, String> {
        let f = TempFile::new(bytes);
        read_state_dict(&f.0)
    }

    fn get<'a>(sd: &'a [(String, TorchTensor)], key: &str) -> &'a TorchTensor {
        &sd.iter().find(|(k, _)| k == key).unwrap_or_else(|| panic!("key {key} missing")).1
    }

    /// Element at a multi-index of a C-order tensor.
    fn at(t: &TorchTensor, idx: &[usize]) -> f32 {
        let mut lin = 0;
        for (i, d) in idx.iter().zip(&t.shape) {
            lin = lin * d + i;
        }
        t.values[lin]
    }

    #[test]
    fn legacy_efficientnet_lite0() {
        let sd = read_state_dict(&weights("efficientnet-lite0-57934424.pth")).unwrap();
        assert_eq!(sd.len(), 296);
        assert_eq!(sd[0].0, "_conv_stem.weight");
        assert_eq!(sd[295].0, "_fc.bias");
        for (k, t) in &sd {
            assert_eq!(t.values.len(), t.shape.iter().product::<usize>(), "{k}");
        }
        let stem = get(&sd, "_conv_stem.weight");
        assert_eq!(stem.shape, [32, 3, 3, 3]);
        assert_eq!(stem.values[..5], [-1.1103361, -1.3087704, -0.010156915, 0.92081195, 1.2259164]);
        assert_eq!(at(stem, &[1, 2, 1, 0]), -0.16553017);
        assert_eq!(at(stem, &[31, 1, 2, 2]), 1.4901161e-8);
        let dw = get(&sd, "_blocks.0._depthwise_conv.weight");
        assert_eq!(dw.shape, [32, 1, 3, 3]);
        assert_eq!(dw.values[..5], [-0.16969286, 0.21025741, -0.03239037, -0.12258807, 1.2529311]);
        assert_eq!(at(dw, &[17, 0, 1, 2]), 0.2621392);
        let proj = get(&sd, "_blocks.15._project_conv.weight");
        assert_eq!(proj.shape, [320, 1152, 1, 1]);
        assert_eq!(at(proj, &[100, 500, 0, 0]), -0.01991738);
        let bn0 = get(&sd, "_bn0.weight");
        assert_eq!(bn0.shape, [32]);
        assert_eq!(bn0.values[..3], [6.2725306, 1.4473447, 1.4549338]);
        let fc = get(&sd, "_fc.weight");
        assert_eq!(fc.shape, [1000, 1280]);
        assert_eq!(fc.values[..2], [-0.045610435, -0.09470871]);
        let nbt = get(&sd, "_bn1.num_batches_tracked");
        assert!(nbt.shape.is_empty());
        assert_eq!(nbt.values, [0.0]);
    }

    #[test]
    fn zip_resnet18() {
        let sd = read_state_dict(&weights("resnet18-seed0.pth")).unwrap();
        assert_eq!(sd.len(), 122);
        assert_eq!(sd[0].0, "conv1.weight");
        assert_eq!(sd[121].0, "fc.bias");
        let conv1 = get(&sd, "conv1.weight");
        assert_eq!(conv1.shape, [64, 3, 7, 7]);
        assert_eq!(
            conv1.values[..5],
            [0.024109675, 0.007528775, 0.046658374, -0.0017881278, 0.020656196]
        );
        let fc = get(&sd, "fc.weight");
        assert_eq!(fc.shape, [1000, 512]);
        assert_eq!(fc.values[..5], [-0.020315496, 0.018677866, 0.03755622, 0.022368507, 0.024545735]);
        assert_eq!(at(fc, &[999, 0]), 0.013612747);
        assert_eq!(at(fc, &[999, 511]), 0.03513889);
        let fcb = get(&sd, "fc.bias");
        assert_eq!(fcb.shape, [1000]);
        assert_eq!(fcb.values[..2], [-0.017327722, -0.043164603]);
        let c = get(&sd, "layer4.1.conv2.weight");
        assert_eq!(c.shape, [512, 512, 3, 3]);
        assert_eq!(at(c, &[511, 510, 2, 1]), -0.027818209);
        assert_eq!(get(&sd, "layer2.0.downsample.0.weight").shape, [128, 64, 1, 1]);
        assert_eq!(get(&sd, "bn1.weight").values, vec![1.0; 64]);
        let nbt = get(&sd, "layer1.0.bn1.num_batches_tracked");
        assert!(nbt.shape.is_empty());
        assert_eq!(nbt.values, [0.0]);
        assert_eq!(sd.iter().filter(|(k, _)| k.ends_with("num_batches_tracked")).count(), 20);
    }

    #[test]
    fn truncated_real_files_are_errors() {
        for name in ["efficientnet-lite0-57934424.pth", "resnet18-seed0.pth"] {
            let bytes = std::fs::read(weights(name)).unwrap();
            for len in [0, 1, 3, 100, 1000, bytes.len() / 2, bytes.len() - 1] {
                let r = read_bytes(&bytes[..len]);
                assert!(r.is_err(), "{name} truncated to {len} bytes was accepted");
            }
        }
        let e = read_bytes(&std::fs::read(weights("efficientnet-lite0-57934424.pth")).unwrap()[..1000]).unwrap_err();
        assert!(e.contains("truncated"), "{e}");
    }

    // -- synthetic files -------------------------------------------------

    /// Minimal pickle writer (protocol 2 opcodes unless stated).
    #[derive(Default)]
    struct P(Vec<u8>);
    impl P {
        fn proto(n: u8) -> Self {
            P(vec![0x80, n])
        }
        fn op(&mut self, b: u8) -> &mut Self {
            self.0.push(b);
            self
        }
        fn global(&mut self, m: &str, n: &str) -> &mut Self {
            self.0.push(b'c');
            self.0.extend_from_slice(format!("{m}\n{n}\n").as_bytes());
            self
        }
        fn str(&mut self, s: &str) -> &mut Self {
            self.0.push(b'X');
            self.0.extend_from_slice(&(s.len() as u32).to_le_bytes());
            self.0.extend_from_slice(s.as_bytes());
            self
        }
        fn int(&mut self, i: i64) -> &mut Self {
            if (0..256).contains(&i) {
                self.0.extend_from_slice(&[b'K', i as u8]);
            } else if (0..65536).contains(&i) {
                self.0.push(b'M');
                self.0.extend_from_slice(&(i as u16).to_le_bytes());
            } else {
                self.0.extend_from_slice(&[0x8a, 8]);
                self.0.extend_from_slice(&i.to_le_bytes());
            }
            self
        }
        fn ints(&mut self, v: &[usize]) -> &mut Self {
            self.op(b'(');
            for &i in v {
                self.int(i as i64);
            }
            self.op(b't')
        }
        /// `_rebuild_tensor_v2((storage...), offset, size, stride, False, OrderedDict())`.
        fn tensor(&mut self, st: &Store, offset: usize, size: &[usize], stride: &[usize]) -> &mut Self {
            self.global("torch._utils", "_rebuild_tensor_v2").op(b'(');
            self.storage(st).int(offset as i64).ints(size).ints(stride);
            self.op(0x89).global("collections", "OrderedDict").op(b')').op(b'R');
            self.op(b't').op(b'R')
        }
        fn storage(&mut self, st: &Store) -> &mut Self {
            self.op(b'(').str("storage").global("torch", st.class).str(&st.key).str("cpu");
            self.int(st.numel as i64);
            if let Some((k, off, len)) = &st.view {
                self.op(b'(').str(k).int(*off as i64).int(*len as i64).op(b't');
            } else if st.legacy {
                self.op(b'N');
            }
            self.op(b't').op(b'Q')
        }
        /// An OrderedDict state dict with a `_metadata` BUILD.
        fn state_dict(&mut self, items: &[Entry]) -> &mut Self {
            self.global("collections", "OrderedDict").op(b')').op(b'R').op(b'(');
            for (k, st, off, size, stride) in items {
                self.str(k).tensor(st, *off, size, stride);
            }
            self.op(b'u');
            self.op(b'}')
                .str("_metadata")
                .global("collections", "OrderedDict")
                .op(b')')
                .op(b'R');
            self.op(b's').op(b'b')
        }
    }

    /// `(key, storage, offset, size, stride)` of one synthetic tensor.
    type Entry<'a> = (&'a str, &'a Store, usize, &'a [usize], &'a [usize]);

    struct Store {
        class: &'static str,
        key: String,
        numel: usize,
        bytes: Vec<u8>,
        view: Option<(String, usize, usize)>,
        legacy: bool,
    }

    fn f32_store(key: &str, vals: &[f32], legacy: bool) -> Store {
        Store {
            class: "FloatStorage",
            key: key.into(),
            numel: vals.len(),
            bytes: vals.iter().flat_map(|v| v.to_le_bytes()).collect(),
            view: None,
            legacy,
        }
    }

    fn legacy_file(main: &[u8], stores: &[&Store]) -> Vec<u8> {
        let mut out = vec![0x80, 2, 0x8a, 10];
        out.extend_from_slice(&LEGACY_MAGIC.to_le_bytes()[..10]);
        out.push(b'.');
        out.extend_from_slice(&[0x80, 2, b'M', 0xe9, 0x03, b'.']);
        let mut si = P::proto(2);
        si.op(b'}').str("little_endian").op(0x88).op(b's').op(b'.');
        out.extend_from_slice(&si.0);
        out.extend_from_slice(main);
        let mut keys = P::proto(2);
        keys.op(b']').op(b'(');
        let mut seen = Vec::new();
        for s in stores {
            if !seen.contains(&&s.key) {
                keys.str(&s.key);
                seen.push(&s.key);
            }
        }
        keys.op(b'e').op(b'.');
        out.extend_from_slice(&keys.0);
        let mut seen = Vec::new();
        for s in stores {
            if !seen.contains(&&s.key) {
                out.extend_from_slice(&((s.bytes.len() / elem_size(s.class)) as i64).to_le_bytes());
                out.extend_from_slice(&s.bytes);
                seen.push(&s.key);
            }
        }
        out
    }

    fn elem_size(class: &str) -> usize {
        DType::from_storage_name(class).map_or(1, DType::size)
    }

    fn zip_file(prefix: &str, pickle: &[u8], stores: &[&Store], byteorder: Option<&str>) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        w.start_file(format!("{prefix}data.pkl"), opts).unwrap();
        w.write_all(pickle).unwrap();
        if let Some(b) = byteorder {
            w.start_file(format!("{prefix}byteorder"), opts).unwrap();
            w.write_all(b.as_bytes()).unwrap();
        }
        for s in stores {
            w.start_file(format!("{prefix}data/{}", s.key), opts).unwrap();
            w.write_all(&s.bytes).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn iota(n: usize) -> Vec<f32> {
        (0..n).map(|i| i as f32).collect()
    }

    /// A legacy checkpoint exercising strides, offsets, views and dtypes.
    fn synthetic_legacy() -> Vec<u8> {
        let f = f32_store("100", &iota(64), true);
        let mut h = Store {
            class: "HalfStorage",
            key: "101".into(),
            numel: 6,
            bytes: Vec::new(),
            view: None,
            legacy: true,
        };
        // 1.0, -2.0, 65504, 2^-24 (smallest subnormal), inf, 0.5
        for b in [0x3c00u16, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x3800] {
            h.bytes.extend_from_slice(&b.to_le_bytes());
        }
        let bf = Store {
            class: "BFloat16Storage",
            key: "102".into(),
            numel: 2,
            bytes: [0x3f80u16, 0xc040].iter().flat_map(|b| b.to_le_bytes()).collect(),
            view: None,
            legacy: true,
        };
        let l = Store {
            class: "LongStorage",
            key: "103".into(),
            numel: 3,
            bytes: [7i64, -5, 1 << 40].iter().flat_map(|b| b.to_le_bytes()).collect(),
            view: None,
            legacy: true,
        };
        let b = Store {
            class: "BoolStorage",
            key: "104".into(),
            numel: 3,
            bytes: vec![1, 0, 5],
            view: None,
            legacy: true,
        };
        let d = Store {
            class: "DoubleStorage",
            key: "105".into(),
            numel: 2,
            bytes: [0.25f64, -1e10].iter().flat_map(|b| b.to_le_bytes()).collect(),
            view: None,
            legacy: true,
        };
        let c = Store {
            class: "CharStorage",
            key: "106".into(),
            numel: 2,
            bytes: vec![0xff, 0x7f],
            view: None,
            legacy: true,
        };
        // A view of elements 40..60 of the float storage.
        let mut v = f32_store("100", &iota(64), true);
        v.view = Some(("200".into(), 40, 20));
        let mut main = P::proto(2);
        main.op(b'}').str("epoch").int(3).op(b's').str("state_dict");
        main.state_dict(&[
            ("module.w", &f, 0, &[2, 3], &[1, 2]),
            ("module.slice", &f, 10, &[2, 2], &[8, 3]),
            ("half", &h, 0, &[6], &[1]),
            ("bf16", &bf, 0, &[2], &[1]),
            ("long", &l, 0, &[3], &[1]),
            ("scalar", &l, 1, &[], &[]),
            ("bool", &b, 0, &[3], &[1]),
            ("double", &d, 0, &[2], &[1]),
            ("char", &c, 0, &[2], &[1]),
            ("view", &v, 1, &[2, 2], &[1, 2]),
            ("empty", &f, 0, &[0, 4], &[4, 1]),
            ("expand", &f, 5, &[2, 3], &[0, 1]),
        ]);
        main.op(b's').op(b'.');
        legacy_file(&main.0, &[&f, &h, &bf, &l, &b, &d, &c])
    }

    #[test]
    fn synthetic_legacy_checkpoint() {
        let sd = read_bytes(&synthetic_legacy()).unwrap();
        let keys: Vec<&str> = sd.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["w", "slice", "half", "bf16", "long", "scalar", "bool", "double", "char", "view", "empty", "expand"]
        );
        let t = |k| get(&sd, k);
        assert_eq!(t("w").shape, [2, 3]);
        assert_eq!(t("w").values, [0.0, 2.0, 4.0, 1.0, 3.0, 5.0]);
        assert_eq!(t("slice").values, [10.0, 13.0, 18.0, 21.0]);
        assert_eq!(t("half").values[..4], [1.0, -2.0, 65504.0, 2f32.powi(-24)]);
        assert_eq!(t("half").values[4], f32::INFINITY);
        assert_eq!(t("half").values[5], 0.5);
        assert_eq!(t("bf16").values, [1.0, -3.0]);
        assert_eq!(t("long").values, [7.0, -5.0, (1u64 << 40) as f32]);
        assert!(t("scalar").shape.is_empty());
        assert_eq!(t("scalar").values, [-5.0]);
        assert_eq!(t("bool").values, [1.0, 0.0, 1.0]);
        assert_eq!(t("double").values, [0.25, -1e10]);
        assert_eq!(t("char").values, [-1.0, 127.0]);
        assert_eq!(t("view").values, [41.0, 43.0, 42.0, 44.0]);
        assert_eq!(t("empty").shape, [0, 4]);
        assert!(t("empty").values.is_empty());
        assert_eq!(t("expand").values, [5.0, 6.0, 7.0, 5.0, 6.0, 7.0]);
    }

    #[test]
    fn synthetic_zip_protocol2_prefix_and_model_key() {
        let f = f32_store("0", &iota(12), false);
        let g = f32_store("1", &[0.5, 1.5], false);
        let mut p = P::proto(2);
        p.op(b'}').str("model");
        p.state_dict(&[("a", &f, 0, &[3, 4], &[1, 3]), ("b", &g, 0, &[2], &[1]), ("c", &f, 11, &[], &[])]);
        p.op(b's').op(b'.');
        let bytes = zip_file("some/dir/archive/", &p.0, &[&f, &g], Some("little"));
        let sd = read_bytes(&bytes).unwrap();
        assert_eq!(sd.len(), 3);
        assert_eq!(sd[0].1.shape, [3, 4]);
        assert_eq!(sd[0].1.values, [0., 3., 6., 9., 1., 4., 7., 10., 2., 5., 8., 11.]);
        assert_eq!(sd[1].1.values, [0.5, 1.5]);
        assert_eq!(sd[2].1.values, [11.0]);
        // Missing byteorder defaults to little endian, no prefix works too.
        let sd2 = read_bytes(&zip_file("", &p.0, &[&f, &g], None)).unwrap();
        assert_eq!(sd, sd2);
    }

    #[test]
    fn synthetic_zip_big_endian() {
        let vals = [1.0f32, -2.5, 3.25];
        let st = Store {
            class: "FloatStorage",
            key: "0".into(),
            numel: 3,
            bytes: vals.iter().flat_map(|v| v.to_be_bytes()).collect(),
            view: None,
            legacy: false,
        };
        let mut p = P::proto(2);
        p.state_dict(&[("x", &st, 0, &[3], &[1])]).op(b'.');
        let sd = read_bytes(&zip_file("a/", &p.0, &[&st], Some("big"))).unwrap();
        assert_eq!(sd[0].1.values, vals);
    }

    #[test]
    fn synthetic_protocol4_opcodes() {
        // {'w': _rebuild_parameter(_rebuild_tensor(storage, 0, (2,), (1,)), True, OrderedDict())}
        // written with FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL, BINGET, NEWOBJ.
        let st = f32_store("0", &[4.0, 5.0], false);
        let mut p = P::proto(4);
        p.op(0x95).0.extend_from_slice(&0u64.to_le_bytes());
        let sbu = |p: &mut P, s: &str| {
            p.op(0x8c).op(s.len() as u8).0.extend_from_slice(s.as_bytes());
            p.op(0x94);
        };
        sbu(&mut p, "collections");
        sbu(&mut p, "OrderedDict");
        p.op(0x93).op(0x94); // memo 2: OrderedDict
        p.op(b')').op(0x81).op(0x94); // NEWOBJ
        p.op(b'(');
        sbu(&mut p, "w");
        sbu(&mut p, "torch.nn.parameter");
        sbu(&mut p, "Parameter");
        p.op(0x93);
        sbu(&mut p, "torch._utils");
        sbu(&mut p, "_rebuild_tensor");
        p.op(0x93).op(b'(');
        p.storage(&st).int(0).ints(&[2]).ints(&[1]).op(b't').op(b'R');
        p.op(0x88).op(0x86).op(b'R'); // Parameter(tensor, True)
        p.op(b'u').op(b'.');
        let sd = read_bytes(&zip_file("arch/", &p.0, &[&st], Some("little"))).unwrap();
        assert_eq!(
            sd,
            [(
                "w".to_string(),
                TorchTensor {
                    shape: vec![2],
                    values: vec![4.0, 5.0]
                }
            )]
        );
    }

    #[test]
    fn error_messages() {
        // Not a PyTorch file.
        let e = read_bytes(b"hello world").unwrap_err();
        assert!(e.contains("not a PyTorch file"), "{e}");
        let e = read_bytes(&[0x80, 2, b'K', 1, b'.']).unwrap_err();
        assert!(e.contains("not a PyTorch file"), "{e}");
        let e = read_bytes(b"PK\x03\x04garbage").unwrap_err();
        assert!(e.contains("not a PyTorch file"), "{e}");
        // Unsupported opcode, named.
        let f = f32_store("0", &[1.0], false);
        let e = read_bytes(&zip_file("a/", b"\x80\x02I1\n.", &[&f], None)).unwrap_err();
        assert!(e.contains("unsupported pickle opcode 0x49 (INT)"), "{e}");
        // Unknown storage type.
        let c = Store {
            class: "ComplexFloatStorage",
            key: "0".into(),
            numel: 1,
            bytes: vec![0; 8],
            view: None,
            legacy: false,
        };
        let mut p = P::proto(2);
        p.state_dict(&[("x", &c, 0, &[1], &[1])]).op(b'.');
        let e = read_bytes(&zip_file("a/", &p.0, &[&c], None)).unwrap_err();
        assert!(e.contains("unknown storage type torch.ComplexFloatStorage"), "{e}");
        // Tensor exceeding its storage.
        let mut p = P::proto(2);
        p.state_dict(&[("x", &f, 0, &[2], &[1])]).op(b'.');
        let e = read_bytes(&zip_file("a/", &p.0, &[&f], None)).unwrap_err();
        assert!(e.contains("exceeds its storage"), "{e}");
        // Storage data shorter than declared.
        let short = Store {
            bytes: vec![0; 2],
            ..f32_store("0", &[1.0], false)
        };
        let mut p = P::proto(2);
        p.state_dict(&[("x", &short, 0, &[1], &[1])]).op(b'.');
        let e = read_bytes(&zip_file("a/", &p.0, &[&short], None)).unwrap_err();
        assert!(e.contains("truncated"), "{e}");
        // No state dict.
        let mut p = P::proto(2);
        p.op(b'}').str("epoch").int(1).op(b's').op(b'.');
        let e = read_bytes(&zip_file("a/", &p.0, &[], None)).unwrap_err();
        assert!(e.contains("no state dict"), "{e}");
        // Missing storage entry.
        let mut p = P::proto(2);
        p.state_dict(&[("x", &f, 0, &[1], &[1])]).op(b'.');
        let e = read_bytes(&zip_file("a/", &p.0, &[], None)).unwrap_err();
        assert!(e.contains("data/0"), "{e}");
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        // 200k nested 1-tuples, then a dict; must give an error, not a stack overflow.
        let mut p = P::proto(2);
        p.op(b')');
        for _ in 0..200_000 {
            p.op(0x85);
        }
        p.op(b'.');
        let f = f32_store("0", &[1.0], false);
        let e = read_bytes(&zip_file("a/", &p.0, &[&f], None)).unwrap_err();
        assert!(e.contains("no state dict"), "{e}");
    }

    #[test]
    fn fuzzed_inputs_never_panic() {
        let legacy = synthetic_legacy();
        let f = f32_store("0", &iota(12), false);
        let mut p = P::proto(2);
        p.state_dict(&[("a", &f, 0, &[3, 4], &[1, 3])]).op(b'.');
        let zipped = zip_file("a/", &p.0, &[&f], Some("little"));
        for base in [&legacy, &zipped] {
            for len in 0..base.len() {
                let _ = read_bytes(&base[..len]);
            }
        }
        // Deterministic xorshift byte mutations.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..1500 {
            let mut m = legacy.clone();
            for _ in 0..1 + next() % 4 {
                let i = (next() as usize) % m.len();
                m[i] = next() as u8;
            }
            let _ = read_bytes(&m);
        }
        for _ in 0..1500 {
            let mut m = zipped.clone();
            for _ in 0..1 + next() % 4 {
                let i = (next() as usize) % m.len();
                m[i] = next() as u8;
            }
            let _ = read_bytes(&m);
        }
        for _ in 0..500 {
            let mut m = p.0.clone();
            let i = (next() as usize) % m.len();
            m[i] = next() as u8;
            let _ = read_bytes(&zip_file("a/", &m, &[&f], None));
        }
    }

    #[test]
    fn half_conversion() {
        assert_eq!(f16_to_f32(0x0000), 0.0);
        assert!(f16_to_f32(0x8000).is_sign_negative());
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0x0400), 2f32.powi(-14));
        assert_eq!(f16_to_f32(0x03ff), 1023.0 * 2f32.powi(-24));
        assert_eq!(f16_to_f32(0xfc00), f32::NEG_INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
    }
}
