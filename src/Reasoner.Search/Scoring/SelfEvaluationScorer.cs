using Reasoner.Core.Prompts;
using Reasoner.Core.Trees;

namespace Reasoner.Search;

/// <summary>
/// Self-evaluation (MCTS-DPO, arXiv 2405.00451 §3.1): the probability the policy itself gives to "this step is
/// correct" under prompts/self-eval.txt, read as P(A) / (P(A) + P(B)) where "(A) correct" and "(B) incorrect" are
/// the prompt's two answers.
/// </summary>
/// <remarks>
/// All siblings share the question and the steps before them, so one <c>ScoreAsync</c> call scores a whole
/// expansion: the prompt is the self-eval text up to the judged step, and each sibling contributes two
/// continuations, "step + rest of the prompt + A" and the same with "B". The tokens the two share cancel in the
/// ratio, so it is the probability of the next token after "Answer: (" being A rather than B; if a tokenizer
/// happens to merge the letter with what precedes it, the ratio is still that of the two whole texts.
/// </remarks>
public sealed class SelfEvaluationScorer : IStepScorer
{
    public const string CorrectLabel = "A";
    public const string IncorrectLabel = "B";

    // A placeholder value no question or step contains, to cut the rendered prompt where the step goes.
    private const string StepSlot = "\u0000step\u0000";

    private readonly PromptTemplate _template;

    public SelfEvaluationScorer(PromptTemplate template)
    {
        if (!template.Placeholders.SequenceEqual(["question", "steps", "step"]))
            throw new ArgumentException($"{template.Source}: a self-evaluation prompt needs the placeholders question, steps and step, in that order");
        _template = template;
    }

    public string Name => "self-eval";

    public async Task ScoreAsync(SearchSession session, IReadOnlyList<TreeNode> siblings, CancellationToken cancel)
    {
        if (siblings.Count == 0) return;
        var parent = session.Tree.Nodes[siblings[0].ParentId];
        var rendered = _template.Render(new Dictionary<string, string>
        {
            ["question"] = PromptLibrary.FormatQuestion(session.Problem),
            ["steps"] = PromptLibrary.FormatSteps(session.Tree.Steps(parent)),
            ["step"] = StepSlot,
        });
        var slot = rendered.IndexOf(StepSlot, StringComparison.Ordinal);
        var prompt = rendered[..slot];
        var afterStep = rendered[(slot + StepSlot.Length)..];

        var continuations = siblings
            .SelectMany(node => new[] { node.Text + afterStep + CorrectLabel, node.Text + afterStep + IncorrectLabel })
            .ToList();
        var scored = await session.Model.ScoreAsync(prompt, continuations, cancel);
        if (scored.Count != continuations.Count)
            throw new InvalidOperationException($"the model scored {scored.Count} continuations of {continuations.Count}");
        for (var i = 0; i < siblings.Count; i++)
            siblings[i].SelfEval = ProbabilityOfFirst(scored[2 * i].LogProb, scored[2 * i + 1].LogProb);
    }

    /// <summary>exp(a) / (exp(a) + exp(b)), computed without overflow.</summary>
    private static double ProbabilityOfFirst(double logA, double logB)
    {
        if (double.IsNegativeInfinity(logA) && double.IsNegativeInfinity(logB)) return 0.5;
        return 1 / (1 + Math.Exp(logB - logA));
    }
}
