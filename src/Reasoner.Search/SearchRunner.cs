using System.Diagnostics;
using Reasoner.Core.Prompts;
using Reasoner.Core.Problems;
using Reasoner.Core.Trees;
using Reasoner.Models.Backends;

namespace Reasoner.Search;

/// <summary>
/// What the three algorithms share around their search loop: the world, proposer and scorers built from the
/// settings, a tree that records model, settings, seed and timings, and a failed tree instead of an exception when
/// the search breaks.
/// </summary>
internal sealed class SearchRunner
{
    private readonly ILanguageModel _model;
    private readonly string _algorithm;
    private readonly StepSearchSettings _settings;
    private readonly IReadOnlyDictionary<string, string> _recorded;

    public SearchRunner(string algorithm, ILanguageModel model, PromptLibrary prompts, StepSearchSettings settings, IStepVerifier? verifier)
    {
        _algorithm = algorithm;
        _model = model;
        _settings = settings;
        _recorded = settings.ToRecord(verifier);
        World = new StepWorld(prompts, settings.World);
        Expander = new StepExpander(new StepProposer(model, settings.Proposal), new StepScoring(settings.Scoring, prompts, verifier));
    }

    public StepWorld World { get; }

    public StepExpander Expander { get; }

    public async Task<PreferenceTree> RunAsync(Problem problem, Func<SearchSession, CancellationToken, Task> search, CancellationToken cancel)
    {
        var tree = new PreferenceTree
        {
            Problem = problem,
            ModelId = _model.ModelId,
            Search = new SearchSettings(_algorithm, new Dictionary<string, string>(_recorded)),
            Seed = _settings.Seed,
        };
        var started = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        SearchSession? session = null;
        try
        {
            session = new SearchSession(tree, _model, World);
            await search(session, cancel);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancel.IsCancellationRequested)
        {
            tree.Status = TreeStatus.Failed;
            tree.Error = $"{e.GetType().Name}: {e.Message}";
        }
        tree.Timings = new SearchTimings(started, clock.Elapsed.TotalMilliseconds)
        {
            PhaseMs = new Dictionary<string, double>(session?.Timer.Totals ?? new Dictionary<string, double>()),
        };
        return tree;
    }
}
