"""Business logic of identity: async functions taking the database session explicitly."""
