namespace Reasoner.Search;

/// <summary>What every step-level search is configured with, besides its own knobs.</summary>
public abstract record StepSearchSettings
{
    private protected StepSearchSettings(ScorerWeights paperWeights) => Scoring = new ScoringSettings { Weights = paperWeights };

    /// <summary>The tree's seed; every request's seed derives from it (<see cref="RequestSeeds"/>).</summary>
    public long Seed { get; init; } = 1234;

    public StepWorldSettings World { get; init; } = new();

    public ProposalSettings Proposal { get; init; } = new();

    /// <summary>Scorer weights and roll-outs; each algorithm's settings default to its paper's weights.</summary>
    public ScoringSettings Scoring { get; init; }

    /// <summary>Every setting as the invariant strings a tree stores (the seed is the tree's own field).</summary>
    internal IReadOnlyDictionary<string, string> ToRecord(IStepVerifier? verifier)
    {
        var recorder = new SettingsRecorder();
        World.Record(recorder);
        Proposal.Record(recorder);
        Scoring.Record(recorder, verifier);
        RecordAlgorithm(recorder);
        return recorder.Values;
    }

    private protected abstract void RecordAlgorithm(SettingsRecorder recorder);
}
