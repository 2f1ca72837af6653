"""What a send is and what it may be: receivers, SMS text, access, destinations, limits. No Slack, OVH or SQL."""
