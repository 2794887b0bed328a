//! `mut` parameters (captured and mutated), destructured tuple and struct parameters.
#![deny(warnings)]
#![forbid(unsafe_code)]

struct Point {
    x: i32,
    y: i32,
}

#[telemetry::track("params.count", capture(count))]
fn count_down(mut count: u32, (a, b): (u32, u32), Point { x, y }: Point) -> u32 {
    while count > 0 {
        count -= 1;
    }
    a + b + x.unsigned_abs() + y.unsigned_abs() + count
}

#[telemetry::track("params.push")]
fn push(mut items: Vec<u8>, [first, ..]: [u8; 2]) -> Vec<u8> {
    items.push(first);
    items
}

fn main() {
    assert_eq!(count_down(3, (1, 2), Point { x: -1, y: 2 }), 6);
    assert_eq!(push(vec![1], [2, 3]), [1, 2]);
}
