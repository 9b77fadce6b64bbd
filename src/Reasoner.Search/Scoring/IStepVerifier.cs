using Reasoner.Core.Problems;

namespace Reasoner.Search;

/// <summary>
/// A trained scorer of partial solutions: a Tree-PLV step verifier (arXiv 2407.00390) or an OREO value model
/// (arXiv 2412.16145). Higher means more likely to lead to the right answer. Must be safe to call concurrently,
/// like <see cref="Models.Backends.ILanguageModel"/>.
/// </summary>
public interface IStepVerifier
{
    /// <summary>Identifies the verifier's weights; recorded in each tree's settings.</summary>
    string Id { get; }

    /// <summary>One score per prefix; each prefix is a solution's steps from the first up to the judged one.</summary>
    Task<IReadOnlyList<double>> ScoreAsync(Problem problem, IReadOnlyList<IReadOnlyList<string>> stepPrefixes, CancellationToken cancel = default);
}
