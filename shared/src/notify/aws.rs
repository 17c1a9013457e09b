//! The senders on AWS: SES v2 for email, SNS for SMS (transactional). Clients are built once at
//! start-up and shared.

use async_trait::async_trait;
use aws_sdk_sesv2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_sdk_sns::types::MessageAttributeValue;

use super::{Email, Mailer, SendError, SmsSender};

#[derive(Clone, Debug)]
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    from: String,
    configuration_set: Option<String>,
}

impl SesMailer {
    pub fn new(client: aws_sdk_sesv2::Client, from: impl Into<String>, configuration_set: Option<String>) -> Self {
        Self { client, from: from.into(), configuration_set }
    }
}

fn content(text: &str) -> Result<Content, SendError> {
    Content::builder().data(text).charset("UTF-8").build().map_err(|e| SendError::Permanent(e.to_string()))
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &Email) -> Result<String, SendError> {
        // The subject is a field of the API call, never a raw header; our inputs hold no CR/LF.
        if email.subject.contains(['\r', '\n']) || email.to.contains(['\r', '\n']) {
            return Err(SendError::Permanent("line break in a header field".into()));
        }
        let message = Message::builder()
            .subject(content(&email.subject)?)
            .body(Body::builder().text(content(&email.text)?).build())
            .build();
        let output = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&email.to).build())
            .content(EmailContent::builder().simple(message).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map_err(classify)?;
        Ok(output.message_id().unwrap_or_default().to_owned())
    }
}

#[derive(Clone, Debug)]
pub struct SnsSms {
    client: aws_sdk_sns::Client,
}

impl SnsSms {
    pub fn new(client: aws_sdk_sns::Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl SmsSender for SnsSms {
    async fn send(&self, to: &str, text: &str) -> Result<String, SendError> {
        let transactional = MessageAttributeValue::builder()
            .data_type("String")
            .string_value("Transactional")
            .build()
            .map_err(|e| SendError::Permanent(e.to_string()))?;
        let output = self
            .client
            .publish()
            .phone_number(to)
            .message(text)
            .message_attributes("AWS.SNS.SMS.SMSType", transactional)
            .send()
            .await
            .map_err(classify)?;
        Ok(output.message_id().unwrap_or_default().to_owned())
    }
}

/// Throttling, service faults and transport errors are worth a retry; a refused request is not.
fn classify<E, R>(e: SdkError<E, R>) -> SendError
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let text = DisplayErrorContext(&e).to_string();
    match &e {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or_default();
            let temporary = [
                "Throttl",
                "LimitExceeded",
                "InternalFailure",
                "InternalError",
                "ServiceUnavailable",
                "TooManyRequests",
            ];
            if temporary.iter().any(|t| code.contains(t)) {
                SendError::Temporary(text)
            } else {
                SendError::Permanent(text)
            }
        }
        _ => SendError::Temporary(text),
    }
}
