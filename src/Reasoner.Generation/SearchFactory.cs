using Reasoner.Core.Prompts;
using Reasoner.Models.Backends;
using Reasoner.Models.Checkpoints;
using Reasoner.Models.Scoring;
using Reasoner.Search;

namespace Reasoner.Generation;

/// <summary>Builds the configured search algorithm: the algorithm's own defaults (its paper's), changed only where a setting is given.</summary>
public static class SearchFactory
{
    public static IReadOnlyList<string> Algorithms { get; } = [MonteCarloTreeSearch.AlgorithmName, BestFirstSearch.AlgorithmName, BeamSearch.AlgorithmName];

    /// <param name="modelSettings">
    /// The model folder's reasoner.json, whose prompt and oversampling are the defaults where no setting is given
    /// (models trained on the tasks' own solutions know only the bare prompt); null for other models.
    /// </param>
    /// <param name="verifier">A trained step verifier; its score joins the algorithm's step value with weight 1.</param>
    /// <param name="verifierOnly">Score steps by the verifier alone (value-guided beam search, as OREO decodes).</param>
    public static ISearchAlgorithm Create(string algorithm, ILanguageModel model, PromptLibrary prompts, long seed, SearchOverrides o, ModelPromptSettings? modelSettings,
        IStepVerifier? verifier = null, bool verifierOnly = false)
    {
        if (verifierOnly && verifier is null) throw new ArgumentException("scoring by the verifier alone needs a verifier", nameof(verifier));
        switch (algorithm)
        {
            case MonteCarloTreeSearch.AlgorithmName:
            {
                if (o.BeamWidth is not null) throw new ArgumentException($"a beam width applies to beam search only, not {algorithm}");
                var d = Common(new MctsSettings(), seed, o, modelSettings, verifier, verifierOnly);
                return new MonteCarloTreeSearch(model, prompts, d with
                {
                    Iterations = o.Iterations ?? d.Iterations,
                    Actions = o.Actions ?? d.Actions,
                    RootActions = o.Actions ?? d.RootActions,
                }, verifier);
            }
            case BestFirstSearch.AlgorithmName:
            {
                if (o.BeamWidth is not null) throw new ArgumentException($"a beam width applies to beam search only, not {algorithm}");
                var d = Common(new BestFirstSettings(), seed, o, modelSettings, verifier, verifierOnly);
                return new BestFirstSearch(model, prompts, d with { MaxExpansions = o.Iterations ?? d.MaxExpansions, Actions = o.Actions ?? d.Actions }, verifier);
            }
            case BeamSearch.AlgorithmName:
            {
                if (o.Iterations is not null) throw new ArgumentException("an iteration count applies to mcts and best-first only, not beam search");
                var d = Common(new BeamSettings(), seed, o, modelSettings, verifier, verifierOnly);
                return new BeamSearch(model, prompts, d with { BeamWidth = o.BeamWidth ?? d.BeamWidth, Actions = o.Actions ?? d.Actions }, verifier);
            }
            default:
                throw new ArgumentException($"unknown search algorithm '{algorithm}': expected one of {string.Join(", ", Algorithms)}");
        }
    }

    private static T Common<T>(T settings, long seed, SearchOverrides o, ModelPromptSettings? modelSettings, IStepVerifier? verifier, bool verifierOnly) where T : StepSearchSettings => settings with
    {
        Seed = seed,
        World = settings.World with
        {
            SolvePrompt = SolvePrompt(o.SolvePrompt, bareByDefault: modelSettings?.IsBare == true),
            DepthLimit = o.DepthLimit ?? settings.World.DepthLimit,
        },
        Proposal = settings.Proposal with
        {
            Temperature = o.Temperature ?? settings.Proposal.Temperature,
            MaxStepTokens = o.MaxStepTokens ?? settings.Proposal.MaxStepTokens,
            Oversampling = o.Oversampling ?? modelSettings?.Oversampling ?? settings.Proposal.Oversampling,
        },
        Scoring = settings.Scoring with
        {
            Weights = verifierOnly ? ScorerWeights.VerifierOnly : verifier is null ? settings.Scoring.Weights : settings.Scoring.Weights with { Verifier = 1 },
            SelfEvalPrompt = modelSettings?.SelfEvalPrompt ?? settings.Scoring.SelfEvalPrompt,
            MonteCarlo = settings.Scoring.MonteCarlo with { Rollouts = o.Rollouts ?? settings.Scoring.MonteCarlo.Rollouts },
        },
    };

    private static SolvePromptStyle SolvePrompt(string? name, bool bareByDefault) =>
        string.IsNullOrEmpty(name) ? (bareByDefault ? SolvePromptStyle.Bare : SolvePromptStyle.FewShot)
        : SolvePromptStyles.Parse(name) ?? throw new ArgumentException($"unknown solve prompt '{name}': expected {SolvePromptStyles.FewShot} or {SolvePromptStyles.Bare}");

    /// <summary>
    /// A scorer (a folder on the device given, or a <c>serve-model --scorer</c> server: <see cref="StepScoringModels.Open"/>) as
    /// search's step verifier; the scorer is the caller's to dispose.
    /// </summary>
    public static (ScorerVerifier Verifier, IStepScoringModel Scorer) LoadVerifier(string spec, PromptLibrary prompts, string device)
    {
        var scorer = StepScoringModels.Open(spec, Models.TorchRuntime.ParseDevice(device));
        return (new ScorerVerifier(scorer, prompts), scorer);
    }
}
