using Reasoner.Core.Problems;
using Reasoner.Models.Backends;

namespace Reasoner.Cli.Generation;

/// <summary>
/// Turns a <c>--model</c> spec into the backend every worker shares. <c>reference[:MISTAKE_RATE[:LATENCY_MS]]</c> is
/// <see cref="ReferenceSolutionModel"/>, the deterministic weight-free test backend; <c>builtin</c> is the project's
/// own checkpoint (not in this build yet).
/// </summary>
public static class ModelBackends
{
    public const string Builtin = "builtin";

    /// <param name="problemsInFlight">What the workers are searching, for the reference backend.</param>
    public static ILanguageModel Create(string spec, Func<IEnumerable<Problem>> problemsInFlight)
    {
        if (ReferenceSolutionModel.ParseSpec(spec) is { } reference) return new ReferenceSolutionModel(problemsInFlight, reference);
        if (spec == Builtin)
            throw new ArgumentException("the built-in model is not part of this build yet; pass --model reference (the weight-free test backend)");
        throw new ArgumentException($"no backend for model '{spec}': expected {Builtin} or reference[:MISTAKE_RATE[:LATENCY_MS]]");
    }

    /// <summary>The built-in model was trained on the bare solve prompt; other models get the few-shot prompt by default.</summary>
    public static bool UsesBarePrompt(string spec) => spec == Builtin;
}
