#[telemetry::track("cmd.this_event_name_is_much_longer_than_the_sixty_four_bytes_allowed")]
fn build() {}

fn main() {}
