using Reasoner.Core.Problems;
using Reasoner.Models;
using Reasoner.Models.Backends;
using Reasoner.Models.Checkpoints;

namespace Reasoner.Generation;

/// <summary>
/// The generator's <c>--model</c>: <c>reference[:MISTAKE_RATE[:LATENCY_MS]]</c> (<see cref="ReferenceSolutionModel"/>,
/// the deterministic weight-free test backend, which answers the problems the workers have in flight), or any spec
/// <see cref="LanguageModelFactory"/> takes. The one backend is shared by every worker: the in-process engine batches
/// their requests into shared forwards and shares its prefix cache; an HTTP backend has their requests in flight together.
/// </summary>
public static class ModelBackends
{
    /// <param name="device">Where the in-process engine runs: cpu, cuda, cuda:N.</param>
    /// <param name="problemsInFlight">What the workers are searching, for the reference backend.</param>
    /// <param name="server">The client's timeouts, retries and concurrency when the spec is a server.</param>
    /// <param name="dtype">The in-process engine's weight dtype: fp32 or bf16.</param>
    /// <param name="replicas">The in-process engine's loops (<see cref="Models.Generation.EngineReplicas"/>).</param>
    public static ILanguageModel Create(string spec, string device, Func<IEnumerable<Problem>> problemsInFlight, ServerClientSettings? server = null,
        string dtype = "fp32", int replicas = 1) =>
        ReferenceSolutionModel.ParseSpec(spec) is { } reference
            ? new ReferenceSolutionModel(problemsInFlight, reference)
            : LanguageModelFactory.Create(spec, TorchRuntime.ParseDevice(device), (server ?? new ServerClientSettings()).ToOptions, TorchRuntime.ParseDtype(dtype), replicas);

    /// <summary>
    /// The model folder's reasoner.json (checkpoints trained from scratch name the bare solve prompt and the oversampling
    /// search needs), or null for every other backend.
    /// </summary>
    public static ModelPromptSettings? ModelSettings(string spec) =>
        LanguageModelFactory.ModelFolder(spec) is { } folder ? ModelPromptSettings.Load(folder) : null;
}
