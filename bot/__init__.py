"""smsbot: send SMS from Slack through the OVHcloud SMS API, with an audit trail in the channel."""
