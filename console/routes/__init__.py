"""The console's screens, one router per screen."""
