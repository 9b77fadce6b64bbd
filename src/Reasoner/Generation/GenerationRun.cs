using Microsoft.Extensions.Logging;
using Reasoner.Cli.Hosting;
using Reasoner.Models.Backends;
using Reasoner.Search;

namespace Reasoner.Cli.Generation;

/// <summary>
/// The generator as <c>generate</c> and <c>serve</c> set it up from settings: the run folder's store (this process's
/// own segments), the one backend all workers share, the search and the pipeline. Disposing flushes and closes the
/// store, then releases the backend.
/// </summary>
public sealed class GenerationRun : IDisposable
{
    private readonly ITreeSink _sink;

    private GenerationRun(string runDirectory, ILanguageModel model, ISearchAlgorithm search, ITreeSink sink, GenerationPipeline pipeline)
    {
        RunDirectory = runDirectory;
        Model = model;
        Search = search;
        _sink = sink;
        Pipeline = pipeline;
    }

    public string RunDirectory { get; }

    public ILanguageModel Model { get; }

    public ISearchAlgorithm Search { get; }

    public GenerationPipeline Pipeline { get; }

    public GenerationProgress Progress => Pipeline.Progress;

    public static GenerationRun Create(string runDirectory, GenerateSettings generate, int seed, ReasonerSettings settings, ILoggerFactory loggers)
    {
        var shard = Shard.Parse(generate.Shard);
        var options = new PipelineOptions
        {
            Workers = generate.Workers,
            ProblemQueueCapacity = generate.ProblemQueueCapacity,
            TreeQueueCapacity = generate.TreeQueueCapacity,
            GracePeriod = TimeSpan.FromSeconds(generate.GracePeriodSeconds),
            Shard = shard,
            IdleFlushAfter = settings.Store.FlushIntervalSeconds > 0 ? TimeSpan.FromSeconds(settings.Store.FlushIntervalSeconds) : null,
        };
        options.Validate();
        var writerOptions = settings.Store.ToWriterOptions(shard.WriterId);
        var prompts = PromptFolder.Open(settings);
        var inFlight = new ProblemsInFlight();
        var model = ModelBackends.Create(generate.Model, settings.Device, () => inFlight.Problems);
        try
        {
            var search = SearchFactory.Create(generate.Algorithm, model, prompts, seed, generate.Search, ModelBackends.ModelSettings(generate.Model));
            var sink = TreeStoreSink.Open(runDirectory, writerOptions, loggers.CreateLogger("Reasoner.Store"));
            var pipeline = new GenerationPipeline(search, sink, options, loggers.CreateLogger<GenerationPipeline>(), inFlight: inFlight);
            return new GenerationRun(runDirectory, model, search, sink, pipeline);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>A run named on the command line: a bare name goes under RunsDir, anything with a folder in it is a path.</summary>
    public static string ResolveDirectory(string output, ReasonerSettings settings) =>
        Path.GetFullPath(Path.IsPathRooted(output) || output.IndexOfAny(['/', Path.DirectorySeparatorChar]) >= 0
            ? output
            : Path.Combine(settings.RunsDir, output));

    public void Dispose()
    {
        _sink.Dispose();
        Model.Dispose();
    }
}
