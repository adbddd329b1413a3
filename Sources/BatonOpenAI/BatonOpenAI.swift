// OpenAI wire types.
