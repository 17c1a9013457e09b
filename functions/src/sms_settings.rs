//! The AWS account's SMS settings, which no CloudFormation resource holds: a monthly spend
//! limit, transactional delivery, and delivery-status logging through the role the template
//! makes (`SmsDeliveryStatusRoleArn`). `guardpost sms-settings` applies them after a deploy
//! (README, "Deploying on AWS with SAM"); running it again with the same values changes nothing.

use std::collections::BTreeMap;

use anyhow::Context;

/// What `guardpost sms-settings` sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmsSettings {
    /// SNS stops sending SMS for the rest of the month once the account has spent this much
    /// (USD). AWS's own default is 1 USD; raising it above the account's quota needs a request
    /// to AWS support.
    pub monthly_spend_limit_usd: u32,
    /// The IAM role SNS writes delivery outcomes to CloudWatch Logs with.
    pub delivery_status_role: Option<String>,
    /// Share of successful deliveries logged (failures are always logged), 0 to 100.
    pub success_sampling_percent: u8,
}

impl SmsSettings {
    /// The attributes as SNS names them.
    pub fn attributes(&self) -> anyhow::Result<BTreeMap<&'static str, String>> {
        anyhow::ensure!(self.success_sampling_percent <= 100, "the success sampling rate is a percentage (0 to 100)");
        if let Some(role) = &self.delivery_status_role {
            anyhow::ensure!(
                role.starts_with("arn:") && role.contains(":iam::") && role.contains(":role/"),
                "the delivery status role must be an IAM role ARN (the stack's SmsDeliveryStatusRoleArn output)"
            );
        }
        let mut attributes = BTreeMap::from([
            ("MonthlySpendLimit", self.monthly_spend_limit_usd.to_string()),
            // Password resets and alerts: delivered first, at the transactional price.
            ("DefaultSMSType", "Transactional".to_owned()),
            ("DeliveryStatusSuccessSamplingRate", self.success_sampling_percent.to_string()),
        ]);
        if let Some(role) = &self.delivery_status_role {
            attributes.insert("DeliveryStatusIAMRole", role.clone());
        }
        Ok(attributes)
    }
}

/// Sets the account's SMS attributes and returns them as SNS then reports them. The spend
/// limit goes last, in a call of its own: SNS refuses a limit above the account's quota (1 USD
/// until AWS support raises it), and that must not cost the other settings.
pub async fn apply(sns: &aws_sdk_sns::Client, settings: &SmsSettings) -> anyhow::Result<BTreeMap<String, String>> {
    let mut attributes = settings.attributes()?;
    let limit = attributes.remove("MonthlySpendLimit");
    let mut request = sns.set_sms_attributes();
    for (name, value) in attributes {
        request = request.attributes(name, value);
    }
    request.send().await.context("SNS refused the SMS type or the delivery-status logging")?;
    if let Some(limit) = limit {
        sns.set_sms_attributes().attributes("MonthlySpendLimit", &limit).send().await.with_context(|| {
            format!(
                "SNS refused a monthly spend limit of {limit} USD (above the account's SMS quota? ask AWS \
                 support to raise it); the other settings were applied"
            )
        })?;
    }
    let read = sns.get_sms_attributes().send().await.context("reading the SMS settings back")?;
    Ok(read.attributes.unwrap_or_default().into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SmsSettings {
        SmsSettings {
            monthly_spend_limit_usd: 50,
            delivery_status_role: Some("arn:aws:iam::123456789012:role/guardpost-sms-status".into()),
            success_sampling_percent: 100,
        }
    }

    #[test]
    fn settings_become_the_attributes_sns_names() {
        let attributes = settings().attributes().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(attributes["MonthlySpendLimit"], "50");
        assert_eq!(attributes["DefaultSMSType"], "Transactional");
        assert_eq!(attributes["DeliveryStatusIAMRole"], "arn:aws:iam::123456789012:role/guardpost-sms-status");
        let without_role =
            SmsSettings { delivery_status_role: None, ..settings() }.attributes().unwrap_or_else(|e| panic!("{e}"));
        assert!(!without_role.contains_key("DeliveryStatusIAMRole"));
    }

    #[test]
    fn a_role_that_is_not_an_iam_role_arn_or_a_rate_above_100_is_refused() {
        let not_a_role = SmsSettings { delivery_status_role: Some("guardpost-sms-status".into()), ..settings() };
        assert!(not_a_role.attributes().is_err());
        assert!(SmsSettings { success_sampling_percent: 101, ..settings() }.attributes().is_err());
    }
}
