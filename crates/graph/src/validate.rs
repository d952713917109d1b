//! Input checks that run before the database sees a value: the seed schema's limits, and
//! the shape of emails and phone numbers. Each failure names its input field.

use async_graphql::{ID, MaybeUndefined};
use uuid::Uuid;

use crate::error::{Error, Result};

/// An object id sent by the client.
pub fn id(field: &str, value: &ID) -> Result<Uuid> {
    Uuid::parse_str(value.as_str())
        .map_err(|_| Error::bad_input(field, format!("{field} is not a valid id")))
}

/// A client-chosen id on a create, when one was sent: a random (version 4) or
/// time-ordered (version 7) UUID, the two kinds a client can make without coordinating
/// with anyone. Name-based ids (versions 3 and 5) collide by design when two clients name
/// the same thing, and versions 1, 2 and 6 carry a machine's address; the nil and max UUIDs
/// (versions 0 and 15) are nobody's.
pub fn optional_id(field: &str, value: Option<&ID>) -> Result<Option<Uuid>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let id = id(field, value)?;
    match id.get_version_num() {
        4 | 7 => Ok(Some(id)),
        _ => Err(Error::bad_input(
            field,
            format!("{field} must be a version 4 (random) or 7 (time-ordered) UUID"),
        )),
    }
}

/// A nullable field of an update: absent keeps the stored value (`None`), `null` clears it
/// (`Some(None)`), a value is checked by `check`.
pub fn patch<T>(
    value: &MaybeUndefined<String>,
    check: impl FnOnce(&str) -> Result<Option<T>>,
) -> Result<Option<Option<T>>> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Ok(Some(None)),
        MaybeUndefined::Value(text) => check(text).map(Some),
    }
}

/// The longest name of a workspace, client or project (the seed schema's `VARCHAR(100)`).
pub const NAME_CHARS: usize = 100;
/// The longest task name (`VARCHAR(150)`).
pub const TASK_NAME_CHARS: usize = 150;
/// The longest description of anything (`VARCHAR(500)`).
pub const DESCRIPTION_CHARS: usize = 500;
/// The longest name of a person (`users.name VARCHAR(50)`).
pub const PERSON_NAME_CHARS: usize = 50;

/// A new name in an update: absent (or `null`) keeps the stored one, a value is checked as
/// on create (1..=`max` characters after trimming).
pub fn name_patch(value: Option<&str>, max: usize) -> Result<Option<String>> {
    value
        .map(|name| required_text("name", name, max))
        .transpose()
}

/// A description on a create: at most [`DESCRIPTION_CHARS`]; absent or blank means none.
pub fn description(value: Option<&str>) -> Result<Option<String>> {
    optional_text("description", value, DESCRIPTION_CHARS)
}

/// A new description in an update: absent keeps it, `null` or blank clears it, a value is
/// at most [`DESCRIPTION_CHARS`].
pub fn description_patch(value: &MaybeUndefined<String>) -> Result<Option<Option<String>>> {
    patch(value, |text| description(Some(text)))
}

/// An optional text of at most `max` characters; blank means none.
pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>> {
    let Some(text) = value.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    max_chars(field, text, max)?;
    Ok(Some(text.to_owned()))
}

/// The longest email the `users.email` and `clients.contact_email` columns hold.
pub const EMAIL_MAX: usize = 255;
/// The longest phone number the seed's phone columns hold.
pub const PHONE_MAX: usize = 20;

/// A required text of 1..=`max` characters after trimming; returns the trimmed text.
pub fn required_text(field: &str, value: &str, max: usize) -> Result<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(Error::bad_input(
            field,
            format!("{field} must not be blank"),
        ));
    }
    max_chars(field, trimmed, max)?;
    Ok(trimmed.to_owned())
}

/// At most `max` characters (not bytes: the database counts characters too), none of them
/// NUL: PostgreSQL's text can't hold it, so both backends refuse it alike.
pub fn max_chars(field: &str, value: &str, max: usize) -> Result<()> {
    if value.contains('\0') {
        return Err(Error::bad_input(
            field,
            format!("{field} must not contain a NUL character"),
        ));
    }
    if value.chars().count() > max {
        return Err(Error::bad_input(
            field,
            format!("{field} must be at most {max} characters"),
        ));
    }
    Ok(())
}

/// An email address, trimmed and lower-cased so that one mailbox is one account.
///
/// The check is deliberately plain: one `@`, a non-empty local part of at most 64
/// characters, a domain with a dot and no empty labels, no whitespace or control
/// characters. Whether the mailbox exists is for a confirmation mail, not for a regex.
pub fn email(field: &str, value: &str) -> Result<String> {
    let email = value.trim().to_lowercase();
    let invalid = || Error::bad_input(field, format!("{field} is not a valid email address"));
    if email.is_empty() {
        return Err(invalid());
    }
    max_chars(field, &email, EMAIL_MAX)?;
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    let well_formed = !local.is_empty()
        && local.chars().count() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"()<>[]\\,;:\"".contains(c));
    if well_formed {
        Ok(email)
    } else {
        Err(invalid())
    }
}

/// An optional phone number: blank means none; otherwise at most 20 characters of digits,
/// spaces and `+ - ( ) .`, with at least one digit.
pub fn phone(field: &str, value: Option<&str>) -> Result<Option<String>> {
    let Some(phone) = value.map(str::trim).filter(|phone| !phone.is_empty()) else {
        return Ok(None);
    };
    max_chars(field, phone, PHONE_MAX)?;
    let allowed = phone
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if !allowed || !phone.chars().any(|c| c.is_ascii_digit()) {
        return Err(Error::bad_input(
            field,
            format!("{field} may hold only digits, spaces and + - ( ) ."),
        ));
    }
    Ok(Some(phone.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(result: Result<impl std::fmt::Debug>) -> String {
        match result {
            Err(Error::BadUserInput { field, .. }) => field,
            other => panic!("expected BAD_USER_INPUT, got {other:?}"),
        }
    }

    #[test]
    fn nul_characters_are_refused_in_every_text() {
        assert_eq!(field_of(required_text("name", "a\0b", 100)), "name");
        assert_eq!(
            field_of(optional_text("description", Some("\0"), 500)),
            "description"
        );
        assert_eq!(field_of(max_chars("filter", "x\0", 150)), "filter");
        assert_eq!(field_of(email("email", "a\0@b.io")), "email");
        assert_eq!(field_of(phone("phone", Some("12\u{0}34"))), "phone");
        assert_eq!(
            required_text("name", "a\u{301}b", 100).unwrap(),
            "a\u{301}b"
        );
    }

    #[test]
    fn emails_are_normalised() {
        assert_eq!(
            email("email", "  Ann@Example.IO ").unwrap(),
            "ann@example.io"
        );
        assert_eq!(
            email("email", "a.b+tag@sub.example.co").unwrap(),
            "a.b+tag@sub.example.co"
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.io",
            "ann@example",
            "ann@@example.io",
            "an n@example.io",
            "ann@exa mple.io",
            "ann@.example.io",
            "ann@example..io",
            ".ann@example.io",
            "ann..b@example.io",
            "ann@-example.io",
        ] {
            assert_eq!(field_of(email("email", bad)), "email", "{bad:?}");
        }
        let long = format!("{}@example.io", "a".repeat(64)) + &".io".repeat(80);
        assert_eq!(field_of(email("email", &long)), "email");
    }

    #[test]
    fn text_limits_count_characters() {
        assert_eq!(required_text("name", " Zoë ", 4).unwrap(), "Zoë");
        assert_eq!(field_of(required_text("name", "Zoë!!", 4)), "name");
        assert_eq!(field_of(required_text("name", "   ", 4)), "name");
    }

    #[test]
    fn phones() {
        assert_eq!(phone("phone", None).unwrap(), None);
        assert_eq!(phone("phone", Some("  ")).unwrap(), None);
        assert_eq!(
            phone("phone", Some("+1 (555) 010-9999"))
                .unwrap()
                .as_deref(),
            Some("+1 (555) 010-9999")
        );
        assert_eq!(field_of(phone("phone", Some("call me"))), "phone");
        assert_eq!(field_of(phone("phone", Some("+--"))), "phone");
        assert_eq!(field_of(phone("phone", Some(&"1".repeat(21)))), "phone");
    }
}
