"""What a send is and may be: receivers, SMS text, access, destinations, limits, records. No Slack/OVH/SQL."""
