namespace Reasoner.Models.Backends;

/// <summary>
/// A backend that knows its context window and its tokenizer, so that a server can refuse a prompt plus token limit
/// that does not fit (as vLLM does) instead of generating past what the model was trained on.
/// </summary>
public interface IContextWindow
{
    /// <summary>Tokens the model attends over: the prompt plus everything it generates.</summary>
    int ContextLength { get; }

    /// <summary>The prompt's length in tokens as the model reads it (with its begin-of-sequence token, if it has one).</summary>
    int CountPromptTokens(string prompt);
}
