using Reasoner.Training.Framework;

namespace Reasoner.Training.Onpo;

/// <summary>Which pairs a round takes from each problem's solutions.</summary>
public enum OnpoPairs
{
    /// <summary>Every pair whose preference is not a tie.</summary>
    All,

    /// <summary>The oracle's best solution against its worst, kept when the best wins (INPO, arXiv 2407.00617).</summary>
    BestVsWorst,
}

/// <summary>
/// ONPO, optimistic online mirror descent for a general preference game (arXiv 2502.16852, Algorithm 1). The paper's
/// values, for 8B models: 1/η grid-searched over {0.1, 0.05, 0.02, 0.01, 0.005} and set to 0.01, cosine schedule with
/// warmup 0.03, global batch 128, T = 3 rounds. Its η multiplies a win rate in [0, 1], so 1/η = 0.01 asks each pair's
/// log-ratio margin to move by η/2 = 50 nats, far too strong for solutions of 20 to 60 tokens. The default η = 2 asks for
/// 1 nat, the size of one token's log-probability; README "train onpo" reports what it gives.
/// </summary>
public sealed record OnpoSettings : PolicyTrainingSettings
{
    /// <summary>η: the target of every pair's square loss is η/2 nats of log-ratio margin against the anchor.</summary>
    public double Eta { get; init; } = 2;

    public OnpoPairs Pairs { get; init; } = OnpoPairs.All;

    /// <summary>Most solutions per problem the pairs come from (INPO: K = 8).</summary>
    public int Samples { get; init; } = 8;

    public override void Validate()
    {
        base.Validate();
        if (!(Eta > 0)) throw new ArgumentException($"η must be positive, got {Eta}");
        if (Samples < 2) throw new ArgumentException($"pairs need at least 2 solutions per problem, got {Samples}");
    }
}
