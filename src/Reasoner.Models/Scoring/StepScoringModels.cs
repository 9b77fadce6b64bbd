using Reasoner.Models.Backends;
using static TorchSharp.torch;

namespace Reasoner.Models.Scoring;

/// <summary>A step scorer from one string, as commands take it: a scorer folder on the in-process engine, or a server.</summary>
public static class StepScoringModels
{
    /// <summary>
    /// A folder (a <c>train plv</c> verifier, a <c>train oreo</c> policy with its value head) on <see cref="ScorerEngine"/>, or
    /// <c>http(s)://HOST:PORT</c> / <c>MODEL@http(s)://HOST:PORT</c>, a <c>serve-model --scorer</c> server.
    /// </summary>
    public static IStepScoringModel Open(string spec, Device? device = null)
    {
        if (Server(spec) is var (model, uri))
            // Commands open their scorer once, before any work starts, on a thread with no synchronisation context.
            return ScoringClient.ConnectAsync(new OpenAiCompletionsOptions { BaseUrl = uri, Model = model }).GetAwaiter().GetResult();
        if (!Directory.Exists(spec)) throw new DirectoryNotFoundException($"scorer folder not found: {spec} (expected a train plv or train oreo output folder, or http(s)://HOST:PORT)");
        // Loaded as the engine's policy is, so that the loading thread keeps no libtorch team (IntraOpThreads.OnThreadOfItsOwn).
        return IntraOpThreads.OnThreadOfItsOwn(() => ScorerEngine.Load(spec, device));
    }

    /// <summary>A folder spec made absolute (recorded in reports and tree settings); a server spec as it is.</summary>
    public static string FullSpec(string spec) => Server(spec) is null ? Path.GetFullPath(spec) : spec;

    static (string? Model, Uri Url)? Server(string spec)
    {
        var at = spec.LastIndexOf("@http", StringComparison.OrdinalIgnoreCase);
        var (model, url) = at > 0 ? (spec[..at], spec[(at + 1)..]) : (null, spec);
        return Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? (model, uri) : null;
    }
}
