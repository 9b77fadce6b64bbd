namespace Reasoner.Models.Backends;

/// <summary>A language-model server failed a request for good: an error answer, or no answer after every retry.</summary>
public sealed class LanguageModelServerException(string message, Uri url, int? statusCode, string? serverMessage, int attempts, Exception? inner = null)
    : Exception(message, inner)
{
    public Uri Url { get; } = url;

    /// <summary>The HTTP status of the last answer; null when there was none (connection failed, timed out).</summary>
    public int? StatusCode { get; } = statusCode;

    /// <summary>What the server said, its JSON <c>error.message</c> when it sent one.</summary>
    public string? ServerMessage { get; } = serverMessage;

    public int Attempts { get; } = attempts;
}
