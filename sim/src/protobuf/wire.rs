//! Reading the protobuf wire format: varints, tags and length-delimited
//! fields, enough to walk Kubernetes' gogo-generated messages.

/// A malformed protobuf message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    /// The message ends in the middle of a field.
    #[error("truncated protobuf message")]
    Truncated,
    /// A wire type the Kubernetes messages never use.
    #[error("unsupported protobuf wire type {0}")]
    WireType(u64),
}

/// One decoded field: its number and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireValue<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 2 (strings, bytes, embedded messages, packed repeats).
    Bytes(&'a [u8]),
    /// Wire types 1 and 5 (fixed width; unused by the decoded kinds).
    Fixed(u64),
}

/// Iterates over the fields of one message.
pub struct FieldReader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> FieldReader<'a> {
    /// Reads fields from `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, position: 0 }
    }

    fn varint(&mut self) -> Result<u64, WireError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.bytes.get(self.position).ok_or(WireError::Truncated)?;
            self.position += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(WireError::Truncated)
    }

    fn take(&mut self, length: usize) -> Result<&'a [u8], WireError> {
        let end = self
            .position
            .checked_add(length)
            .ok_or(WireError::Truncated)?;
        let slice = self
            .bytes
            .get(self.position..end)
            .ok_or(WireError::Truncated)?;
        self.position = end;
        Ok(slice)
    }

    /// The next field, or `None` at the end.
    pub fn next_field(&mut self) -> Result<Option<(u64, WireValue<'a>)>, WireError> {
        if self.position >= self.bytes.len() {
            return Ok(None);
        }
        let tag = self.varint()?;
        let number = tag >> 3;
        let value = match tag & 7 {
            0 => WireValue::Varint(self.varint()?),
            1 => {
                let bytes = self.take(8)?;
                WireValue::Fixed(
                    bytes
                        .iter()
                        .rev()
                        .fold(0, |value, byte| (value << 8) | u64::from(*byte)),
                )
            }
            2 => {
                let length = usize::try_from(self.varint()?).map_err(|_| WireError::Truncated)?;
                WireValue::Bytes(self.take(length)?)
            }
            5 => {
                let bytes = self.take(4)?;
                WireValue::Fixed(
                    bytes
                        .iter()
                        .rev()
                        .fold(0, |value, byte| (value << 8) | u64::from(*byte)),
                )
            }
            other => return Err(WireError::WireType(other)),
        };
        Ok(Some((number, value)))
    }
}
