//! Generic functions with `where` clauses, captured generic and `impl Trait` parameters
//! (bounded by `SafeValue`), and generic methods of generic impls.
#![deny(warnings)]
#![forbid(unsafe_code)]

use std::fmt::Debug;
use telemetry::SafeValue;

#[telemetry::track("generic.sum", capture(count))]
fn sum<T, C>(items: &[T], count: C) -> T
where
    T: Copy + std::iter::Sum<T>,
    C: SafeValue + Debug,
{
    items.iter().copied().sum()
}

#[telemetry::track("generic.flag", capture(flag))]
fn flag(flag: impl SafeValue) -> bool {
    flag.to_attr_value().is_some()
}

struct Holder<T>(T);

impl<T: Clone + Default> Holder<T> {
    #[telemetry::track("generic.holder", capture(level))]
    fn get<'a>(&'a self, level: u8) -> T
    where
        T: 'a,
    {
        if level > 0 { self.0.clone() } else { T::default() }
    }

    #[telemetry::track("generic.holder_capture", capture(extra))]
    fn set<M: SafeValue>(&mut self, value: T, extra: M) {
        self.0 = value;
    }
}

fn main() {
    assert_eq!(sum(&[1, 2, 3], 3_u8), 6);
    assert!(flag(true));
    let mut holder = Holder(String::from("x"));
    assert_eq!(holder.get(1), "x");
    holder.set("y".to_owned(), 2_u64);
    assert_eq!(holder.0, "y");
    let spec = telemetry::catalog::events().into_iter().find(|s| s.name() == "generic.flag").unwrap();
    assert_eq!(spec.keys().collect::<Vec<_>>(), [("flag", "any")]);
}
