using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;
using Reasoner.Core.Trees;
using Reasoner.Models.Backends;

namespace Reasoner.Search;

/// <summary>
/// MCTS-DPO's search settings. The paper's script (scripts/mcts_mathqa.sh) runs n_iters 64, depth_limit 3,
/// n_init_actions 2, n_actions 2, w_exp 1.0, temperature 1.0, max_new_tokens 128, mcts_length_penalty 1.25, γ 1.0,
/// mcts_temperature 0 (commit to the most visited child). Ours match except <see cref="Iterations"/>: 16, because
/// every simulation expands up to <see cref="Horizon"/> nodes with a model call each and the built-in model runs on a
/// CPU; pass 64 for the paper's budget.
/// </summary>
public sealed record MctsSettings : StepSearchSettings
{
    public MctsSettings() : base(ScorerWeights.MctsDpo) { }

    /// <summary>Simulations from each committed node (MCTS-DPO n_iters; paper 64).</summary>
    public int Iterations { get; init; } = 16;

    /// <summary>The root gets this many times <see cref="Iterations"/> (mcts.py search(): n_iters * 4).</summary>
    public int RootIterationMultiplier { get; init; } = 4;

    /// <summary>c in PUCT's Q + c·p·√N(parent)/(1 + N) (MCTS-DPO w_exp 1.0).</summary>
    public double ExplorationWeight { get; init; } = 1.0;

    /// <summary>Discount γ in Q = r + γ·V (MCTS-DPO gamma 1.0).</summary>
    public double Gamma { get; init; } = 1.0;

    /// <summary>
    /// How many steps below the committed node one search looks (MCTS-DPO depth_limit 3, measured from the search's
    /// root: mcts.py _is_terminal_with_depth_limit). The solution's own length limit is <see cref="StepWorldSettings.DepthLimit"/>.
    /// </summary>
    public int Horizon { get; init; } = 3;

    /// <summary>Steps sampled per expansion below the root (MCTS-DPO n_actions 2).</summary>
    public int Actions { get; init; } = 2;

    /// <summary>Steps sampled at the root (MCTS-DPO n_init_actions 2).</summary>
    public int RootActions { get; init; } = 2;

    private protected override void RecordAlgorithm(SettingsRecorder recorder) => recorder
        .Add("iterations", Iterations)
        .Add("rootIterationMultiplier", RootIterationMultiplier)
        .Add("explorationWeight", ExplorationWeight)
        .Add("gamma", Gamma)
        .Add("horizon", Horizon)
        .Add("actions", Actions)
        .Add("rootActions", RootActions);
}

/// <summary>
/// Monte Carlo tree search as MCTS-DPO builds its trees (Xie et al., arXiv 2405.00451 §3.1; code
/// YuxiXie/MCTS-DPO, mcts_rl/algorithms/mcts/mcts/mcts.py and trainer.tree_constructor).
/// </summary>
/// <remarks>
/// The solution is built one committed step at a time: search from the current node (n_iters·4 simulations at the
/// root, n_iters below), then commit to its most visited child, and repeat until the committed step ends the
/// solution. Each simulation (mcts.py iterate):
/// <list type="number">
/// <item>selects by PUCT, argmax Q + c·p·√N(parent)/(1 + N), down to a leaf or the horizon;</item>
/// <item>expands the leaf with k sampled steps, scored by the scorers into the node value v (MCTS-DPO:
/// self-eval/max(d − 3, 1) plus the ±1 outcome at terminals), each child starting at Q = r = v(child) − v(parent);</item>
/// <item>backs up after every expansion: Q = r + γ·V at the path's end, then for each node above it
/// V = Σ max(1, N_c)·Q_c / Σ max(1, N_c) over its children and Q = r + γ·V, and N + 1 on every node of the path;</item>
/// <item>goes on selecting and expanding from the new children until the horizon or a terminal, then backs up once more.</item>
/// </list>
/// As in the reference code, N therefore counts backups, not simulations (a simulation that expands three levels
/// adds 4 to the search root, one more for the simulation itself): PUCT and the visit-count label smoothing of
/// conservative DPO read these counts. V is computed from the children when needed instead of stored; it equals
/// the stored V of mcts.py wherever that is read.
/// Not reproduced: the embedding-similarity filter of candidate steps (we merge exact duplicates), the
/// diversity factor in the commit rule (we commit by visits, then Q, then lower id, the order
/// <see cref="TreeViews.StepPairs"/> follows), inserting ground-truth steps as candidates, and turning the last step
/// at the depth limit into a single roll-out to the end (we cut the solution off there instead).
/// </remarks>
public sealed class MonteCarloTreeSearch : ISearchAlgorithm
{
    public const string AlgorithmName = AlgorithmNames.Mcts;

    private readonly SearchRunner _runner;

    public MonteCarloTreeSearch(ILanguageModel model, PromptLibrary prompts, MctsSettings? settings = null, IStepVerifier? verifier = null)
    {
        Settings = settings ?? new MctsSettings();
        if (Settings.Iterations < 0 || Settings.RootIterationMultiplier < 0) throw new ArgumentException("iterations must not be negative");
        if (Settings.Horizon < 1 || Settings.Actions < 1 || Settings.RootActions < 1) throw new ArgumentException("horizon and actions must be at least 1");
        _runner = new SearchRunner(AlgorithmName, model, prompts, Settings, verifier);
    }

    public string Name => AlgorithmName;

    public MctsSettings Settings { get; }

    public Task<PreferenceTree> SearchAsync(Problem problem, CancellationToken cancel = default) =>
        _runner.RunAsync(problem, SearchAsync, cancel);

    private async Task SearchAsync(SearchSession session, CancellationToken cancel)
    {
        var current = session.Tree.Root;
        while (!current.IsTerminal)
        {
            var iterations = current.IsRoot ? Settings.Iterations * Settings.RootIterationMultiplier : Settings.Iterations;
            for (var i = 0; i < iterations && !current.IsTerminal; i++)
                await SimulateAsync(session, current, cancel);
            if (current.IsLeaf) break;
            using (session.Timer.Measure(PhaseTimer.Select))
                current = TreeViews.MostVisitedChild(session.Tree, current);
        }
    }

    private async Task SimulateAsync(SearchSession session, TreeNode searchRoot, CancellationToken cancel)
    {
        var tree = session.Tree;
        List<TreeNode> path;
        using (session.Timer.Measure(PhaseTimer.Select))
        {
            searchRoot.Visits++;
            path = SelectPath(tree, searchRoot);
        }
        while (!AtHorizon(path[^1], searchRoot))
        {
            var leaf = path[^1];
            var children = await _runner.Expander.ExpandAsync(session, leaf, leaf.IsRoot ? Settings.RootActions : Settings.Actions, cancel);
            using (session.Timer.Measure(PhaseTimer.Select))
            {
                // mcts.py MCTSNode: Q = parent.V + r at creation, and a leaf's V is still 0 when it is expanded.
                foreach (var child in children) child.Q = Reward(tree, child);
                // mcts.py iterate(): no backup for the expansion of the tree's root, which has no Q of its own.
                if (!leaf.IsRoot) Backup(tree, path);
                if (children.Count == 0) break;
                path.Add(PuctChild(tree, leaf));
            }
        }
        using (session.Timer.Measure(PhaseTimer.Select))
            Backup(tree, path);
    }

    private bool AtHorizon(TreeNode node, TreeNode searchRoot) =>
        node.IsTerminal || node.Depth - searchRoot.Depth >= Settings.Horizon;

    private List<TreeNode> SelectPath(PreferenceTree tree, TreeNode searchRoot)
    {
        var path = new List<TreeNode> { searchRoot };
        while (!path[^1].IsLeaf && !AtHorizon(path[^1], searchRoot))
            path.Add(PuctChild(tree, path[^1]));
        return path;
    }

    /// <summary>argmax Q + c·p·√N(parent)/(1 + N); the first child wins ties, as Python's max does.</summary>
    private TreeNode PuctChild(PreferenceTree tree, TreeNode parent)
    {
        var sqrtParentVisits = Math.Sqrt(parent.Visits);
        TreeNode? best = null;
        var bestScore = double.NegativeInfinity;
        foreach (var child in tree.Children(parent))
        {
            var score = child.Q + Settings.ExplorationWeight * child.Prior * sqrtParentVisits / (1 + child.Visits);
            if (best is null || score > bestScore)
            {
                best = child;
                bestScore = score;
            }
        }
        return best!;
    }

    private void Backup(PreferenceTree tree, List<TreeNode> path)
    {
        var end = path[^1];
        end.Q = Reward(tree, end) + Settings.Gamma * V(tree, end);
        end.Visits++;
        for (var i = path.Count - 2; i >= 0; i--)
        {
            var node = path[i];
            node.Visits++;
            if (!node.IsRoot) node.Q = Reward(tree, node) + Settings.Gamma * V(tree, node);
        }
    }

    /// <summary>r = v(node) − v(parent), v being the scorers' combined value (0 at the root).</summary>
    private static double Reward(PreferenceTree tree, TreeNode node) =>
        Value(node) - (tree.Parent(node) is { } parent ? Value(parent) : 0);

    private static double Value(TreeNode node) => node.IsRoot ? 0 : node.StepValue ?? 0;

    /// <summary>The visit-weighted mean of the children's Q, each weighted max(1, N); 0 for a leaf.</summary>
    private static double V(PreferenceTree tree, TreeNode node)
    {
        double weighted = 0, weights = 0;
        foreach (var child in tree.Children(node))
        {
            var weight = Math.Max(1, child.Visits);
            weighted += weight * child.Q;
            weights += weight;
        }
        return weights == 0 ? 0 : weighted / weights;
    }
}
