using Microsoft.Extensions.Logging;
using Reasoner.Core.Prompts;
using Reasoner.Models.Backends;
using Reasoner.Search;

namespace Reasoner.Generation;

/// <summary>
/// The generator as <c>generate</c> and <c>serve</c> set it up from settings: the run folder's store (this process's
/// own segments), the one backend all workers share, the search and the pipeline. Disposing flushes and closes the
/// store, then releases the backend.
/// </summary>
public sealed class GenerationRun : IDisposable
{
    private readonly ITreeSink _sink;
    private readonly IDisposable? _verifier;

    private GenerationRun(string runDirectory, ILanguageModel model, ISearchAlgorithm search, ITreeSink sink, GenerationPipeline pipeline, IDisposable? verifier)
    {
        _verifier = verifier;
        RunDirectory = runDirectory;
        Model = model;
        Search = search;
        _sink = sink;
        Pipeline = pipeline;
    }

    public string RunDirectory { get; }

    public ILanguageModel Model { get; }

    /// <summary>The model id for logs, with the in-process engine's dtype where it is not fp32 and its loops where there are several.</summary>
    public string ModelLabel => Model switch
    {
        Models.Generation.TorchEngine { Dtype: var dtype } when dtype != TorchSharp.torch.ScalarType.Float32 => $"{Model.ModelId} ({Models.TorchRuntime.DtypeName(dtype)})",
        Models.Generation.EngineReplicas replicas => $"{Model.ModelId} ({(replicas.Dtype != TorchSharp.torch.ScalarType.Float32 ? Models.TorchRuntime.DtypeName(replicas.Dtype) + ", " : "")}{replicas.Engines.Count} engine loops)",
        _ => Model.ModelId,
    };

    public ISearchAlgorithm Search { get; }

    public GenerationPipeline Pipeline { get; }

    public GenerationProgress Progress => Pipeline.Progress;

    /// <param name="device">Where an in-process model runs: cpu, cuda, cuda:N.</param>
    public static GenerationRun Create(string runDirectory, GenerateSettings generate, StoreSettings store, PromptLibrary prompts, int seed, string device,
        ILoggerFactory loggers)
    {
        var shard = Shard.Parse(generate.Shard);
        var options = new PipelineOptions
        {
            Workers = generate.Workers,
            ProblemQueueCapacity = generate.ProblemQueueCapacity,
            TreeQueueCapacity = generate.TreeQueueCapacity,
            GracePeriod = TimeSpan.FromSeconds(generate.GracePeriodSeconds),
            Shard = shard,
            IdleFlushAfter = store.FlushIntervalSeconds > 0 ? TimeSpan.FromSeconds(store.FlushIntervalSeconds) : null,
        };
        options.Validate();
        var writerOptions = store.ToWriterOptions(shard.WriterId);
        var inFlight = new ProblemsInFlight();
        // On a thread of its own: the loading thread must not keep a team of libtorch threads beside the engine's.
        int replicas = generate.Replicas ?? (LanguageModelFactory.ModelFolder(generate.Model) is { } folder
            ? Models.Generation.EngineReplicas.AutoCount(generate.Workers, Models.TorchRuntime.ParseDevice(device), Models.Checkpoints.CheckpointLoader.LoadConfig(folder).MatrixWeights)
            : 1);
        var model = Models.IntraOpThreads.OnThreadOfItsOwn(() => ModelBackends.Create(generate.Model, device, () => inFlight.Problems, generate.Server, generate.Dtype, replicas));
        Models.Scoring.IStepScoringModel? verifierEngine = null;
        try
        {
            ScorerVerifier? verifier = null;
            if (!string.IsNullOrEmpty(generate.Verifier)) (verifier, verifierEngine) = SearchFactory.LoadVerifier(generate.Verifier, prompts, device);
            var search = SearchFactory.Create(generate.Algorithm, model, prompts, seed, generate.Search, ModelBackends.ModelSettings(generate.Model), verifier);
            var sink = TreeStoreSink.Open(runDirectory, writerOptions, loggers.CreateLogger("Reasoner.Store"));
            var pipeline = new GenerationPipeline(search, sink, options, loggers.CreateLogger<GenerationPipeline>(), inFlight: inFlight);
            return new GenerationRun(runDirectory, model, search, sink, pipeline, verifierEngine);
        }
        catch
        {
            verifierEngine?.Dispose();
            model.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _sink.Dispose();
        Model.Dispose();
        _verifier?.Dispose();
    }
}
