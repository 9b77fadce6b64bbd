using Reasoner.Cli.Hosting;
using Reasoner.Core.Problems;
using Reasoner.Models;
using Reasoner.Models.Backends;
using Reasoner.Models.Checkpoints;
using Reasoner.Models.Generation;

namespace Reasoner.Cli.Generation;

/// <summary>
/// Turns a <c>--model</c> spec into the one backend every worker shares: <c>builtin</c> (the project's own checkpoint,
/// <c>models/builtin/</c>) or a Hugging Face model folder on the in-process <see cref="TorchEngine"/> (its requests
/// queue on one lock, so the workers share its prefix cache), a <c>.gguf</c> file (llama.cpp in process),
/// <c>http(s)://HOST:PORT</c> or <c>MODEL@http(s)://HOST:PORT</c> (an OpenAI-compatible server: vLLM, SGLang,
/// llama.cpp's server, serve-model; the workers' requests in flight together), or
/// <c>reference[:MISTAKE_RATE[:LATENCY_MS]]</c> (<see cref="ReferenceSolutionModel"/>, the deterministic weight-free
/// test backend).
/// </summary>
public static class ModelBackends
{
    public const string Builtin = "builtin";

    /// <param name="device">Where the in-process engine runs: cpu, cuda, cuda:N.</param>
    /// <param name="problemsInFlight">What the workers are searching, for the reference backend.</param>
    public static ILanguageModel Create(string spec, string device, Func<IEnumerable<Problem>> problemsInFlight)
    {
        if (ReferenceSolutionModel.ParseSpec(spec) is { } reference) return new ReferenceSolutionModel(problemsInFlight, reference);
        if (spec.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)) return LlamaCppModel.Load(spec);
        if (ModelFolder(spec) is { } folder) return TorchEngine.Load(folder, TorchRuntime.ParseDevice(device));
        return LanguageModelFactory.Create(spec);
    }

    /// <summary>
    /// The model folder's reasoner.json (checkpoints trained from scratch name the bare solve prompt and the oversampling
    /// search needs), or null for every other backend.
    /// </summary>
    public static ModelPromptSettings? ModelSettings(string spec) =>
        ModelFolder(spec) is { } folder ? ModelPromptSettings.Load(folder) : null;

    private static string? ModelFolder(string spec)
    {
        if (Directory.Exists(spec)) return spec;
        if (spec != Builtin) return null;
        try
        {
            return BuiltinModel.Locate();
        }
        catch (DirectoryNotFoundException e)
        {
            throw new UserError($"{e.Message}; train one with 'pretrain', or pass --model reference (the weight-free test backend), a model folder, a .gguf file or http://HOST:PORT");
        }
    }
}
