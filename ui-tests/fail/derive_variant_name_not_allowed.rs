//! A variant's default value (its name in snake_case) follows the rule of `rename`.
#[derive(telemetry::SafeValue)]
enum User {
    Ålice,
    Bob,
    ThisVariantNameIsFarTooLongToBeSentAsAValueBecauseItExceedsSixtyFourBytes,
    Ñandú,
    #[safe_value(rename = "eve")]
    Éve,
}

fn main() {}
