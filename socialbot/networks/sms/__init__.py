"""SMS through Twilio: `wire` reads recorded texts and Twilio's answers, `adapter` calls it."""
