namespace Reasoner.Models.Backends;

/// <summary>
/// Builds a backend from one string, as commands take it on the command line. Today: an OpenAI-compatible server,
/// <c>http(s)://HOST:PORT</c> or <c>MODEL@http(s)://HOST:PORT</c> (MODEL is the served model's name). Checkpoint
/// folders (the in-process engine) and GGUF files (llama.cpp) are wired here when those backends land.
/// </summary>
public static class LanguageModelFactory
{
    public static ILanguageModel Create(string spec)
    {
        var at = spec.LastIndexOf("@http", StringComparison.OrdinalIgnoreCase);
        var (model, url) = at > 0 ? (spec[..at], spec[(at + 1)..]) : (null, spec);
        if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
            return new OpenAiCompletionsClient(new OpenAiCompletionsOptions { BaseUrl = uri, Model = model });
        if (Directory.Exists(spec) || File.Exists(spec))
            throw new ArgumentException($"no backend for '{spec}' yet: checkpoints are not wired to a backend; serve it with an OpenAI-compatible server and pass http://HOST:PORT");
        throw new ArgumentException($"no backend for '{spec}': expected http(s)://HOST:PORT or MODEL@http(s)://HOST:PORT (an OpenAI-compatible server)");
    }
}
