"""Cloud sync: drains the diary's outbox to an MQTT broker. Reads nothing but the outbox."""
