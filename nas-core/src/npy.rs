//! NumPy `.npy` files (format 1.0, little-endian, C order): the array format our users' Python
//! tools read and write.

use crate::error::{NasError, Result};
use crate::output::write_atomically;
use ndarray::{ArrayD, IxDyn};
use std::path::Path;

/// Element types nas writes and reads in `.npy` files.
pub trait NpyElement: Copy + Default {
    /// NumPy's `descr` string for this type.
    const DESCR: &'static str;
    /// Appends the little-endian bytes of `self`.
    fn put(self, out: &mut Vec<u8>);
    /// Reads one value from its little-endian bytes.
    fn get(bytes: &[u8]) -> Self;
    /// Size in bytes.
    const SIZE: usize;
}

macro_rules! npy_element {
    ($t:ty, $descr:expr, $size:expr) => {
        impl NpyElement for $t {
            const DESCR: &'static str = $descr;
            const SIZE: usize = $size;
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn get(bytes: &[u8]) -> Self {
                let mut b = [0u8; $size];
                b.copy_from_slice(&bytes[..$size]);
                <$t>::from_le_bytes(b)
            }
        }
    };
}
npy_element!(f32, "<f4", 4);
npy_element!(u16, "<u2", 2);
npy_element!(u32, "<u4", 4);
npy_element!(i32, "<i4", 4);
npy_element!(i64, "<i8", 8);
npy_element!(f64, "<f8", 8);

/// Encodes an array of any shape as `.npy` bytes.
pub fn encode<T: NpyElement>(shape: &[usize], data: &[T]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_text = if shape.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", T::DESCR, shape_text);
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len() * T::SIZE);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for &v in data {
        v.put(&mut out);
    }
    out
}

/// Writes an array as a `.npy` file, atomically.
pub fn write<T: NpyElement>(path: &Path, shape: &[usize], data: &[T]) -> Result<()> {
    let bytes = encode(shape, data);
    write_atomically(path, |w| std::io::Write::write_all(w, &bytes))
}

/// Writes an ndarray as a `.npy` file, atomically.
pub fn write_array<T: NpyElement, D: ndarray::Dimension>(path: &Path, array: &ndarray::Array<T, D>) -> Result<()> {
    let data: Vec<T> = array.iter().copied().collect();
    write(path, array.shape(), &data)
}

/// Reads a `.npy` file of element type `T` (C order only).
pub fn read<T: NpyElement>(path: &Path) -> Result<ArrayD<T>> {
    let bytes = std::fs::read(path).map_err(|e| NasError::io(path, e))?;
    decode(&bytes).map_err(|reason| NasError::InvalidInput(format!("{}: {reason}", path.display())))
}

/// Decodes `.npy` bytes of element type `T`.
pub fn decode<T: NpyElement>(bytes: &[u8]) -> std::result::Result<ArrayD<T>, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not a .npy file".into());
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
        v => return Err(format!("unsupported .npy version {v}")),
    };
    let header = bytes
        .get(start..start + header_len)
        .map(String::from_utf8_lossy)
        .ok_or("truncated header")?;
    if !header.contains(&format!("'{}'", T::DESCR)) {
        return Err(format!("expected dtype {}, header is {}", T::DESCR, header.trim()));
    }
    if header.contains("'fortran_order': True") {
        return Err("Fortran-ordered arrays are not supported".into());
    }
    let shape_text = header
        .split("'shape':")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .ok_or("no shape in header")?;
    let shape: Vec<usize> = shape_text
        .trim_start_matches([' ', '('])
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| format!("bad shape {shape_text}")))
        .collect::<std::result::Result<_, _>>()?;
    let count: usize = shape.iter().product();
    let body = &bytes[start + header_len..];
    if body.len() < count * T::SIZE {
        return Err(format!("truncated data: {} bytes for {count} values", body.len()));
    }
    let data: Vec<T> = body.chunks_exact(T::SIZE).take(count).map(T::get).collect();
    ArrayD::from_shape_vec(IxDyn(&shape), data).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip_keeps_shape_and_values() {
        let bytes = super::encode::<f32>(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.5, -6.0]);
        assert_eq!((bytes.len() - 24) % 64, 0, "header must be 64-byte aligned");
        let back = super::decode::<f32>(&bytes).unwrap();
        assert_eq!(back.shape(), &[2, 3]);
        assert_eq!(back[[1, 2]], -6.0);
        assert!(super::decode::<u32>(&bytes).is_err());
    }
}
