//! Writing Protocol Buffers (proto3) messages: the wire format only, no schema. The
//! caller names each field's number and type; [`Writer`] lays out the bytes.
//!
//! Written here rather than taken from `prost` and a crate of generated types: the
//! OTLP requests this crate sends use a handful of messages and field types, and the
//! generated OpenTelemetry types brought the OpenTelemetry API and SDK crates into a
//! host's build (sink/otlp/wire has the figures).
//!
//! The rules kept here (protobuf.dev, "Encoding"):
//!
//! - a field is a key (`field number << 3 | wire type`, as a varint) then its value;
//! - integers are base-128 varints, least significant group first; a negative `int64`
//!   or `int32` is its 64-bit two's complement, so always 10 bytes;
//! - `fixed64`, `sfixed64` and `double` are 8 bytes, little-endian;
//! - strings, bytes, nested messages and packed repeated scalars are length-delimited:
//!   the byte length as a varint, then the bytes;
//! - a proto3 field without explicit presence is not written at its default (0, `""`,
//!   `false`, empty): [`Writer::field`]; a member of a `oneof` or an `optional` field is
//!   written whenever it is set, default or not: [`Writer::set_field`].

/// The wire type in the low three bits of a field's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WireType {
    Varint = 0,
    Fixed64 = 1,
    Len = 2,
}

/// A scalar field's protobuf type, holding its value: what decides its encoding (a
/// Rust `u64` can be a `uint64` or a `fixed64` on the wire).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Scalar<'a> {
    /// `int64`: a varint, 10 bytes when negative.
    Int64(i64),
    /// An enum (an `int32` on the wire): a varint, sign-extended when negative.
    Enum(i32),
    /// `bool`: a varint 0 or 1.
    Bool(bool),
    /// `fixed64`: 8 bytes, little-endian.
    Fixed64(u64),
    /// `sfixed64`: 8 bytes, little-endian two's complement.
    // Only the report metrics (feature `reports`) have `sfixed64` and packed fields.
    #[cfg_attr(not(feature = "reports"), allow(dead_code))]
    SFixed64(i64),
    /// `double`: the IEEE 754 bits, 8 bytes, little-endian.
    Double(f64),
    /// `string`: length-delimited UTF-8.
    Str(&'a str),
}

impl Scalar<'_> {
    /// Whether this is the type's default, which a field without explicit presence
    /// leaves out. A double is default only as +0.0 (its bits all zero): -0.0 is a
    /// distinct value and is written, as the reference implementation does.
    fn is_default(&self) -> bool {
        match *self {
            Self::Int64(n) | Self::SFixed64(n) => n == 0,
            Self::Enum(n) => n == 0,
            Self::Bool(b) => !b,
            Self::Fixed64(n) => n == 0,
            Self::Double(f) => f.to_bits() == 0,
            Self::Str(s) => s.is_empty(),
        }
    }
}

/// A message being written: fields are appended in the order the caller writes them
/// (protobuf readers accept any order; callers write ascending field numbers, as the
/// reference implementations do).
#[derive(Debug, Default)]
pub(crate) struct Writer {
    out: Vec<u8>,
}

impl Writer {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The encoded message.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.out
    }

    /// A field without explicit presence (a plain proto3 scalar): nothing at its
    /// default value.
    pub(crate) fn field(&mut self, number: u32, value: Scalar<'_>) {
        if !value.is_default() {
            self.set_field(number, value);
        }
    }

    /// A field with explicit presence (a member of a `oneof`, an `optional` field):
    /// written even at its default value, since being set is information.
    pub(crate) fn set_field(&mut self, number: u32, value: Scalar<'_>) {
        match value {
            // Sign-extended to 64 bits, as the format requires for both types.
            Scalar::Int64(n) => self.varint_field(number, n as u64),
            Scalar::Enum(n) => self.varint_field(number, i64::from(n) as u64),
            Scalar::Bool(b) => self.varint_field(number, u64::from(b)),
            Scalar::Fixed64(n) => self.fixed64_field(number, n),
            Scalar::SFixed64(n) => self.fixed64_field(number, n as u64),
            Scalar::Double(f) => self.fixed64_field(number, f.to_bits()),
            Scalar::Str(s) => self.bytes(number, s.as_bytes()),
        }
    }

    /// A length-delimited field of raw bytes (a `string` is its UTF-8), written even
    /// when empty: callers with implicit presence go through [`Writer::field`].
    pub(crate) fn bytes(&mut self, number: u32, bytes: &[u8]) {
        self.key(number, WireType::Len);
        self.varint(bytes.len() as u64);
        self.out.extend_from_slice(bytes);
    }

    /// A nested message (a message-typed field, or one element of a repeated one),
    /// whose fields `write` appends. Written even when empty: a message field's
    /// presence is explicit.
    ///
    /// The length comes before the content and is only known after it: the content is
    /// written in place, then its length inserted in front of it (moving the content
    /// by the length's one to a few bytes). For the few kilobytes of a request, a few
    /// levels deep, that costs less than computing every message's size beforehand.
    pub(crate) fn message(&mut self, number: u32, write: impl FnOnce(&mut Writer)) {
        self.key(number, WireType::Len);
        let start = self.out.len();
        write(self);
        let len = (self.out.len() - start) as u64;
        let mut prefix = Vec::with_capacity(MAX_VARINT_LEN);
        push_varint(&mut prefix, len);
        self.out.splice(start..start, prefix);
    }

    /// A packed repeated `fixed64` (the proto3 default for repeated scalars): one
    /// length-delimited field of 8 bytes per value; nothing when empty.
    #[cfg_attr(not(feature = "reports"), allow(dead_code))]
    pub(crate) fn packed_fixed64(&mut self, number: u32, values: &[u64]) {
        self.packed(number, values.iter().map(|n| n.to_le_bytes()));
    }

    /// A packed repeated `double`; nothing when empty.
    #[cfg_attr(not(feature = "reports"), allow(dead_code))]
    pub(crate) fn packed_double(&mut self, number: u32, values: &[f64]) {
        self.packed(number, values.iter().map(|f| f.to_bits().to_le_bytes()));
    }

    #[cfg_attr(not(feature = "reports"), allow(dead_code))]
    fn packed(&mut self, number: u32, values: impl ExactSizeIterator<Item = [u8; 8]>) {
        if values.len() == 0 {
            return;
        }
        self.key(number, WireType::Len);
        self.varint(8 * values.len() as u64);
        for bytes in values {
            self.out.extend_from_slice(&bytes);
        }
    }

    fn varint_field(&mut self, number: u32, n: u64) {
        self.key(number, WireType::Varint);
        self.varint(n);
    }

    fn fixed64_field(&mut self, number: u32, n: u64) {
        self.key(number, WireType::Fixed64);
        self.out.extend_from_slice(&n.to_le_bytes());
    }

    fn key(&mut self, number: u32, wire_type: WireType) {
        self.varint(u64::from(number) << 3 | wire_type as u64);
    }

    fn varint(&mut self, n: u64) {
        push_varint(&mut self.out, n);
    }
}

/// A `u64` takes at most ten 7-bit groups.
const MAX_VARINT_LEN: usize = 10;

/// `n` as a varint: 7 bits per byte, least significant first, the high bit set on
/// every byte but the last.
fn push_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        // The low 7 bits, with the continuation bit: the cast keeps exactly those.
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        push_varint(&mut out, n);
        out
    }

    fn message(write: impl FnOnce(&mut Writer)) -> Vec<u8> {
        let mut w = Writer::new();
        write(&mut w);
        w.into_bytes()
    }

    #[test]
    fn varints_at_their_edges() {
        assert_eq!(varint(0), [0x00]);
        assert_eq!(varint(1), [0x01]);
        assert_eq!(varint(127), [0x7f]);
        assert_eq!(varint(128), [0x80, 0x01]);
        assert_eq!(varint(300), [0xac, 0x02], "protobuf.dev's example");
        assert_eq!(varint(16_383), [0xff, 0x7f]);
        assert_eq!(varint(16_384), [0x80, 0x80, 0x01]);
        assert_eq!(
            varint(u64::MAX),
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
        );
        assert_eq!(varint(u64::MAX).len(), MAX_VARINT_LEN);
    }

    #[test]
    fn keys_hold_the_field_number_and_wire_type() {
        assert_eq!(
            message(|w| w.field(1, Scalar::Int64(150))),
            [0x08, 0x96, 0x01]
        );
        assert_eq!(
            message(|w| w.field(2, Scalar::Str("a"))),
            [0x12, 0x01, b'a']
        );
        assert_eq!(message(|w| w.field(1, Scalar::Fixed64(1)))[0], 0x09);
        // Field 16 needs a two-byte key: 16 << 3 | 2 = 130.
        assert_eq!(
            message(|w| w.field(16, Scalar::Str("a")))[..2],
            [0x82, 0x01]
        );
    }

    #[test]
    fn negative_integers_are_ten_byte_twos_complement() {
        let minus_one = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(message(|w| w.field(3, Scalar::Int64(-1)))[1..], minus_one);
        assert_eq!(message(|w| w.field(3, Scalar::Enum(-1)))[1..], minus_one);
        let min = message(|w| w.field(3, Scalar::Int64(i64::MIN)));
        assert_eq!(
            min,
            [
                0x18, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01
            ]
        );
        assert_eq!(
            message(|w| w.field(6, Scalar::SFixed64(-2))),
            [0x31, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
    }

    #[test]
    fn fixed_width_values_are_little_endian() {
        assert_eq!(
            message(|w| w.field(1, Scalar::Fixed64(0x0102_0304_0506_0708))),
            [0x09, 8, 7, 6, 5, 4, 3, 2, 1]
        );
        assert_eq!(
            message(|w| w.field(4, Scalar::Double(1.0))),
            [0x21, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]
        );
    }

    #[test]
    fn defaults_are_left_out_unless_the_field_has_presence() {
        for default in [
            Scalar::Int64(0),
            Scalar::Enum(0),
            Scalar::Bool(false),
            Scalar::Fixed64(0),
            Scalar::SFixed64(0),
            Scalar::Double(0.0),
            Scalar::Str(""),
        ] {
            assert!(message(|w| w.field(1, default)).is_empty(), "{default:?}");
            assert!(
                !message(|w| w.set_field(1, default)).is_empty(),
                "{default:?}"
            );
        }
        assert_eq!(
            message(|w| w.set_field(2, Scalar::Bool(false))),
            [0x10, 0x00]
        );
        assert_eq!(message(|w| w.set_field(2, Scalar::Str(""))), [0x12, 0x00]);
        assert_eq!(
            message(|w| w.field(4, Scalar::Double(-0.0))).len(),
            9,
            "-0.0 is not the default"
        );
        assert!(message(|w| w.packed_fixed64(6, &[])).is_empty());
        assert!(message(|w| w.packed_double(7, &[])).is_empty());
    }

    #[test]
    fn nested_messages_are_prefixed_by_their_length() {
        assert_eq!(message(|w| w.message(1, |_| {})), [0x0a, 0x00]);
        let nested = message(|w| {
            w.message(1, |inner| {
                inner.field(1, Scalar::Str("ab"));
                inner.message(2, |deeper| deeper.field(1, Scalar::Bool(true)));
            });
            w.field(2, Scalar::Int64(1));
        });
        assert_eq!(
            nested,
            [
                0x0a, 0x08, 0x0a, 0x02, b'a', b'b', 0x12, 0x02, 0x08, 0x01, 0x10, 0x01
            ]
        );
        // 200 bytes of content: a two-byte length, the content after it intact.
        let text = "x".repeat(197);
        let long = message(|w| w.message(3, |inner| inner.field(1, Scalar::Str(&text))));
        assert_eq!(long[..6], [0x1a, 0xc8, 0x01, 0x0a, 0xc5, 0x01]);
        assert_eq!(long.len(), 3 + 200);
        assert!(long[6..].iter().all(|&b| b == b'x'));
    }

    #[test]
    fn packed_repeated_values_are_one_length_delimited_field() {
        assert_eq!(
            message(|w| w.packed_fixed64(6, &[1, 2])),
            [0x32, 16, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]
        );
        let doubles = message(|w| w.packed_double(7, &[0.5, -2.0]));
        assert_eq!(doubles[..2], [0x3a, 16]);
        assert_eq!(doubles[2..10], 0.5_f64.to_le_bytes());
        assert_eq!(doubles[10..], (-2.0_f64).to_le_bytes());
    }

    #[test]
    fn bytes_are_length_delimited_even_when_empty() {
        assert_eq!(message(|w| w.bytes(9, &[])), [0x4a, 0x00]);
        assert_eq!(
            message(|w| w.bytes(9, &[0, 0xff])),
            [0x4a, 0x02, 0x00, 0xff]
        );
    }
}
