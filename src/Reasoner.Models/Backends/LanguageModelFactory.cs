using Reasoner.Models.Checkpoints;
using Reasoner.Models.Generation;
using static TorchSharp.torch;

namespace Reasoner.Models.Backends;

/// <summary>
/// Builds a backend from one string, as commands take it on the command line: <c>builtin</c> (the repository's
/// <c>models/builtin/</c>) or a Hugging Face model folder on the in-process <see cref="TorchEngine"/>, a <c>.gguf</c>
/// file on llama.cpp (<see cref="LlamaCppModel"/>), or an OpenAI-compatible server, <c>http(s)://HOST:PORT</c> or
/// <c>MODEL@http(s)://HOST:PORT</c> (MODEL is the served model's name).
/// </summary>
public static class LanguageModelFactory
{
    public const string Builtin = "builtin";

    /// <param name="device">Where the in-process engine runs (CPU when null); llama.cpp and servers choose their own.</param>
    /// <param name="serverOptions">The client's options for a server spec, given its address and model name; the defaults when null.</param>
    /// <param name="dtype">The in-process engine's weight dtype (<see cref="TorchRuntime.ParseDtype"/>); other backends choose their own.</param>
    /// <param name="replicas">In-process engine loops over the one set of weights (<see cref="EngineReplicas"/>); 1: one engine.</param>
    public static ILanguageModel Create(string spec, Device? device = null, Func<Uri, string?, OpenAiCompletionsOptions>? serverOptions = null,
        ScalarType dtype = ScalarType.Float32, int replicas = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(replicas, 1);
        var at = spec.LastIndexOf("@http", StringComparison.OrdinalIgnoreCase);
        var (model, url) = at > 0 ? (spec[..at], spec[(at + 1)..]) : (null, spec);
        if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
            return new OpenAiCompletionsClient(serverOptions?.Invoke(uri, model) ?? new OpenAiCompletionsOptions { BaseUrl = uri, Model = model });
        if (spec.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
            return File.Exists(spec) ? LlamaCppModel.Load(spec) : throw new FileNotFoundException($"GGUF file not found: {spec}", spec);
        if (ModelFolder(spec) is { } folder)
            return replicas > 1 ? EngineReplicas.Load(folder, replicas, device, dtype: dtype) : TorchEngine.Load(folder, device, dtype: dtype);
        throw new ArgumentException(
            $"no backend for '{spec}': expected {Builtin}, a model folder (config.json, *.safetensors, tokenizer.json), a .gguf file, " +
            "http(s)://HOST:PORT or MODEL@http(s)://HOST:PORT (an OpenAI-compatible server)");
    }

    /// <summary>The checkpoint folder a spec names (<c>builtin</c> or a folder), or null when it names another kind of backend.</summary>
    public static string? ModelFolder(string spec) =>
        spec == Builtin ? BuiltinModel.Locate() : Directory.Exists(spec) ? spec : null;
}
