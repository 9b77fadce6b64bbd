using Reasoner.Training.Batching;
using static TorchSharp.torch;

namespace Reasoner.Training.Framework;

/// <summary>Figures a method reports over a set of examples; <see cref="Loss"/> is always one of them.</summary>
public interface ITrainingMetrics
{
    double Loss { get; }

    /// <summary>The figures under their log names, each prefixed (<c>eval/</c> for held-out ones).</summary>
    IEnumerable<KeyValuePair<string, double>> Named(string prefix);
}

/// <summary>Collects a method's per-example figures over a step's micro-batches, or over a held-out pass.</summary>
public interface IMetricTally<out TMetrics> where TMetrics : ITrainingMetrics
{
    TMetrics Metrics();
}

/// <summary>
/// What a policy-training method is, once the loop is factored out: how its examples become a batch, what the frozen
/// reference (the policy as training starts) contributes per example, and its loss. <see cref="PolicyTrainer{TExample, TReference, TBatch, TMetrics}"/>
/// does everything else, the same way for every method.
/// </summary>
/// <typeparam name="TExample">One training example in tokens (a step pair, a ranked list, a group of solutions).</typeparam>
/// <typeparam name="TReference">What the reference model gives one example, computed once before training.</typeparam>
public interface IPolicyObjective<TExample, TReference, TBatch, TMetrics>
    where TBatch : ITokenCounts, IDisposable
    where TMetrics : ITrainingMetrics
{
    /// <summary>Tokens in an example's longest row, for the maximum-length rule.</summary>
    int Length(TExample example);

    /// <summary>A batch of examples with their reference figures (default values while the reference itself is computed).</summary>
    TBatch Collate(IReadOnlyList<TExample> examples, IReadOnlyList<TReference> reference, Device device);

    /// <summary>The reference figures of a batch's examples under the current weights; called without autograd, before training.</summary>
    IReadOnlyList<TReference> Reference(TBatch batch);

    IMetricTally<TMetrics> NewTally();

    /// <summary>The batch's mean loss (with autograd when it is on); per-example figures go to <paramref name="tally"/>.</summary>
    Tensor Loss(TBatch batch, IMetricTally<TMetrics> tally);
}
