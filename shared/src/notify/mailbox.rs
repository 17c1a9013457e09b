//! The single process's senders: a mailbox folder under the data directory, with every email
//! as an `.eml` file a person can open and every SMS as a JSON line in `sms.jsonl`, each also
//! logged (without the message body).

use std::io::Write;
use std::path::PathBuf;

use async_trait::async_trait;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, Message, SinglePart};

use super::{Email, Mailer, SendError, SmsSender};

#[derive(Clone, Debug)]
pub struct LocalMailbox {
    dir: PathBuf,
    from: String,
}

/// Writes emails as `.eml` files into `dir`.
pub type MailboxMailer = LocalMailbox;

impl LocalMailbox {
    pub fn new(dir: PathBuf, from: impl Into<String>) -> Self {
        Self { dir, from: from.into() }
    }

    fn write(&self, name: &str, bytes: &[u8], append: bool) -> Result<PathBuf, SendError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| SendError::Temporary(format!("mailbox: {e}")))?;
        let path = self.dir.join(name);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(append)
            .write(true)
            .truncate(!append)
            .open(&path)
            .map_err(|e| SendError::Temporary(format!("mailbox: {e}")))?;
        file.write_all(bytes).map_err(|e| SendError::Temporary(format!("mailbox: {e}")))?;
        Ok(path)
    }
}

/// Builds the RFC 5322 message. lettre encodes headers itself, so a CR or LF in a subject or
/// address cannot start a new header.
pub fn build_message(from: &str, email: &Email) -> Result<Message, SendError> {
    let from: Mailbox = from.parse().map_err(|e| SendError::Permanent(format!("sender address: {e}")))?;
    let to: Mailbox = email.to.parse().map_err(|e| SendError::Permanent(format!("recipient address: {e}")))?;
    // These files are read by people and scripts, not relayed by SMTP: the body stays as
    // written ("binary" transfer encoding) so links are not broken by quoted-printable wrapping
    // of lines over 76 characters. Headers are still encoded by lettre.
    let body = Body::new_with_encoding(email.text.clone(), ContentTransferEncoding::Binary).unwrap_or_else(Body::new);
    Message::builder()
        .from(from)
        .to(to)
        .subject(email.subject.clone())
        .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(body))
        .map_err(|e| SendError::Permanent(format!("building the message: {e}")))
}

#[async_trait]
impl Mailer for LocalMailbox {
    async fn send(&self, email: &Email) -> Result<String, SendError> {
        let message = build_message(&self.from, email)?;
        let name = format!("{}-{}.eml", chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f"), ulid::Ulid::new());
        let path = self.write(&name, &message.formatted(), false)?;
        tracing::info!(file = %path.display(), "email written to the local mailbox");
        Ok(path.display().to_string())
    }
}

/// Appends SMS as JSON lines to `sms.jsonl` in the mailbox folder.
#[derive(Clone, Debug)]
pub struct MailboxSms(pub LocalMailbox);

#[async_trait]
impl SmsSender for MailboxSms {
    async fn send(&self, to: &str, text: &str) -> Result<String, SendError> {
        let id = ulid::Ulid::new().to_string();
        let line = serde_json::json!({"id": id, "to": to, "text": text, "at": chrono::Utc::now()});
        self.0.write("sms.jsonl", format!("{line}\n").as_bytes(), true)?;
        tracing::info!(sms = %id, "SMS written to the local mailbox");
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_break_in_a_subject_cannot_add_a_header() {
        let email =
            Email { to: "ada@example.com".into(), subject: "Hi\r\nBcc: evil@example.com".into(), text: "x".into() };
        let raw = String::from_utf8(
            build_message("guardpost <no-reply@guardpost.local>", &email).map(|m| m.formatted()).unwrap_or_default(),
        )
        .unwrap_or_default();
        assert!(!raw.lines().any(|l| l.to_ascii_lowercase().starts_with("bcc:")), "{raw}");
        assert!(raw.contains("To: ada@example.com"));
    }

    #[test]
    fn recipients_with_line_breaks_are_refused() {
        let email =
            Email { to: "ada@example.com\r\nBcc: evil@example.com".into(), subject: "s".into(), text: "x".into() };
        assert!(build_message("no-reply@guardpost.local", &email).is_err());
    }
}
