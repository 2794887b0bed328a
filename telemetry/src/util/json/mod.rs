//! JSON, as this crate reads and writes it: its events, its consent file, its report
//! and spool files, the `--json` output of its commands.
//!
//! Written here rather than taken from `serde` + `serde_json`: those two (with
//! `serde_derive`, `memchr`, `itoa` and a float formatter) were about 10 s of cargo's
//! unit time in a host's clean build, for a handful of small, flat documents this
//! crate defines itself (BENCHMARKS.md, *Footprint*). The writer ([`write`]) escapes
//! exactly as `serde_json` does (the tests compare the two); the reader ([`read`]) is
//! a strict RFC 8259 parser into [`Json`], with a nesting limit, that refuses duplicate
//! keys; each file's fields are then taken out by hand, with the file's own rules.

pub(crate) mod read;
pub(crate) mod write;

pub(crate) use read::parse;

/// A JSON value. Objects keep their members in order (a file's unknown fields are
/// written back as they were).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    /// A negative integer.
    Int(i64),
    /// A non-negative integer.
    UInt(u64),
    /// A float to write.
    Float(f64),
    /// A number read with a fraction or an exponent, an integer beyond 64 bits, or
    /// `-0`, as its text: read as an `f64` only where a float is wanted ([`Json::as_f64`]), so
    /// that a build which never reads one has no float parser, and written back as it
    /// was (a consent file's unknown fields).
    Number(String),
    Str(String),
    Array(Vec<Json>),
    Object(Object),
}

/// An object's members, in order, each key once.
pub(crate) type Object = Vec<(String, Json)>;

impl Json {
    /// The member `key` of an object; `None` for anything else.
    #[cfg_attr(not(any(feature = "spool", feature = "reports")), allow(dead_code))]
    pub(crate) fn get(&self, key: &str) -> Option<&Json> {
        self.as_object()?
            .iter()
            .find_map(|(k, v)| (k == key).then_some(v))
    }

    #[cfg_attr(not(any(feature = "spool", feature = "reports")), allow(dead_code))]
    pub(crate) fn as_object(&self) -> Option<&Object> {
        match self {
            Self::Object(members) => Some(members),
            _ => None,
        }
    }

    #[cfg_attr(not(feature = "reports"), allow(dead_code))]
    pub(crate) fn as_array(&self) -> Option<&[Json]> {
        match self {
            Self::Array(items) => Some(items),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// An integer that fits `u64`.
    pub(crate) fn as_u64(&self) -> Option<u64> {
        match self {
            Self::UInt(n) => Some(*n),
            _ => None,
        }
    }

    /// Any number.
    #[cfg_attr(not(any(feature = "spool", feature = "reports")), allow(dead_code))]
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Int(n) => Some(*n as f64),
            Self::UInt(n) => Some(*n as f64),
            Self::Float(f) => Some(*f),
            // Finite only: `1e999` is a valid JSON number but no `f64`.
            Self::Number(text) => text.parse::<f64>().ok().filter(|f| f.is_finite()),
            _ => None,
        }
    }

    /// This value read by `read` as an optional field's: `Some(None)` for `null`,
    /// `None` when `read` refuses it.
    pub(crate) fn nullable<'j, T>(
        &'j self,
        read: impl FnOnce(&'j Json) -> Option<T>,
    ) -> Option<Option<T>> {
        match self {
            Self::Null => Some(None),
            value => read(value).map(Some),
        }
    }

    /// The member `key` of an object, read by `read`; `Err(key)` when it is absent or
    /// `read` refuses it (a file's reader turns the name into its own error).
    #[cfg_attr(not(any(feature = "spool", feature = "reports")), allow(dead_code))]
    pub(crate) fn field<'j, T>(
        &'j self,
        key: &'static str,
        read: impl FnOnce(&'j Json) -> Option<T>,
    ) -> Result<T, &'static str> {
        self.get(key).and_then(read).ok_or(key)
    }

    /// The optional member `key`: `Ok(None)` when absent or `null`, else read by `read`;
    /// `Err(key)` when `read` refuses it.
    #[cfg_attr(not(any(feature = "spool", feature = "reports")), allow(dead_code))]
    pub(crate) fn optional_field<'j, T>(
        &'j self,
        key: &'static str,
        read: impl FnOnce(&'j Json) -> Option<T>,
    ) -> Result<Option<T>, &'static str> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => value.nullable(read).ok_or(key),
        }
    }

    /// Compact JSON text.
    pub(crate) fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::new();
        write::value(&mut out, self, None);
        out
    }

    /// JSON text indented by two spaces, as `serde_json::to_vec_pretty` writes it.
    pub(crate) fn to_vec_pretty(&self) -> Vec<u8> {
        let mut out = Vec::new();
        write::value(&mut out, self, Some(0));
        out
    }

    /// Indented JSON text (see [`Json::to_vec_pretty`]).
    pub(crate) fn to_string_pretty(&self) -> String {
        String::from_utf8(self.to_vec_pretty()).unwrap_or_default()
    }

    /// Compact JSON text.
    pub(crate) fn to_string_compact(&self) -> String {
        String::from_utf8(self.to_vec()).unwrap_or_default()
    }
}

impl From<&str> for Json {
    fn from(s: &str) -> Self {
        Self::Str(s.to_owned())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Self {
        Self::Str(s)
    }
}

impl From<bool> for Json {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

impl From<u64> for Json {
    fn from(n: u64) -> Self {
        Self::UInt(n)
    }
}

impl From<i64> for Json {
    fn from(n: i64) -> Self {
        u64::try_from(n).map_or(Self::Int(n), Self::UInt)
    }
}

impl From<f64> for Json {
    fn from(f: f64) -> Self {
        Self::Float(f)
    }
}

impl<T: Into<Json>> From<Option<T>> for Json {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

/// Builds an object member by member: `ObjectBuilder::new().field("a", 1).build()`.
#[derive(Default)]
pub(crate) struct ObjectBuilder(Object);

impl ObjectBuilder {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds `key: value`. Every caller names its keys as literals, each once (the
    /// reader refuses a repeated key, so a repeat would be a file this crate cannot
    /// read back: checked in debug builds).
    #[must_use]
    pub(crate) fn field(mut self, key: &str, value: impl Into<Json>) -> Self {
        debug_assert!(
            self.0.iter().all(|(k, _)| k != key),
            "`{key}` written twice"
        );
        self.0.push((key.to_owned(), value.into()));
        self
    }

    /// Adds `key: value` unless `value` is `None`.
    #[must_use]
    pub(crate) fn field_if<T: Into<Json>>(self, key: &str, value: Option<T>) -> Self {
        match value {
            Some(v) => self.field(key, v),
            None => self,
        }
    }

    pub(crate) fn build(self) -> Json {
        Json::Object(self.0)
    }
}
