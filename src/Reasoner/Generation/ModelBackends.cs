using Reasoner.Core.Problems;
using Reasoner.Models;
using Reasoner.Models.Backends;
using Reasoner.Models.Generation;

namespace Reasoner.Cli.Generation;

/// <summary>
/// Turns a <c>--model</c> spec into the one backend every worker shares: a Hugging Face model folder (the in-process
/// <see cref="TorchEngine"/>; its requests queue on one lock, so workers share its prefix cache), a <c>.gguf</c> file
/// (llama.cpp in process), <c>http(s)://HOST:PORT</c> or <c>MODEL@http(s)://HOST:PORT</c> (an OpenAI-compatible
/// server: vLLM, SGLang, llama.cpp's server, serve-model; the workers' requests in flight together),
/// <c>reference[:MISTAKE_RATE[:LATENCY_MS]]</c> (<see cref="ReferenceSolutionModel"/>, the deterministic weight-free
/// test backend), or <c>builtin</c>, the project's own checkpoint (not in this build yet).
/// </summary>
public static class ModelBackends
{
    public const string Builtin = "builtin";

    /// <param name="device">Where the in-process engine runs: cpu, cuda, cuda:N.</param>
    /// <param name="problemsInFlight">What the workers are searching, for the reference backend.</param>
    public static ILanguageModel Create(string spec, string device, Func<IEnumerable<Problem>> problemsInFlight)
    {
        if (ReferenceSolutionModel.ParseSpec(spec) is { } reference) return new ReferenceSolutionModel(problemsInFlight, reference);
        if (spec == Builtin)
            throw new ArgumentException("the built-in model is not part of this build yet; pass --model reference (the weight-free test backend), a model folder, a .gguf file or http://HOST:PORT");
        if (spec.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)) return LlamaCppModel.Load(spec);
        if (Directory.Exists(spec)) return TorchEngine.Load(spec, TorchRuntime.ParseDevice(device));
        return LanguageModelFactory.Create(spec);
    }

    /// <summary>The built-in model was trained on the bare solve prompt; other models get the few-shot prompt by default.</summary>
    public static bool UsesBarePrompt(string spec) => spec == Builtin;
}
