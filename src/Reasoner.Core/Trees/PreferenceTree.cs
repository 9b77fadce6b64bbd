using System.Text.Json.Serialization;
using MessagePack;
using Reasoner.Core.Problems;

namespace Reasoner.Core.Trees;

/// <summary>The search algorithm's name and every setting it ran with, as invariant-culture strings.</summary>
[MessagePackObject]
public sealed record SearchSettings(
    [property: Key(0)] string Algorithm,
    [property: Key(1)] IReadOnlyDictionary<string, string> Settings);

/// <summary>When the search started and how long it and its phases (expansion, scoring, roll-outs...) took.</summary>
[MessagePackObject]
public sealed record SearchTimings(
    [property: Key(0)] DateTime StartedUtc,
    [property: Key(1)] double ElapsedMs)
{
    [Key(2)] public IReadOnlyDictionary<string, double> PhaseMs { get; init; } = new Dictionary<string, double>();
}

public enum TreeStatus
{
    Completed = 0,
    /// <summary>The search threw; the tree keeps what was built and <see cref="PreferenceTree.Error"/> says why.</summary>
    Failed = 1,
}

/// <summary>
/// One search over one problem: every node the search created with its statistics, plus what is needed
/// to reproduce and audit the run (model, settings, seed, timings). Nodes are stored in a flat list
/// indexed by <see cref="TreeNode.Id"/>, so ids are stable across serialization and parent links are ints.
/// </summary>
[MessagePackObject]
public sealed class PreferenceTree
{
    /// <summary>The schema this code writes. Bump it when a key changes meaning; readers skip newer ones.</summary>
    public const int CurrentSchemaVersion = 1;

    /// <summary>
    /// Where a step ends, in every task family and every model: one step per line. Search splits sampled text into
    /// steps at it, and trainers and exports join steps with it. Step texts never contain it.
    /// </summary>
    public const string StepDelimiter = "\n";

    [Key(0)] public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    [Key(1)] public required Problem Problem { get; init; }

    [Key(2)] public required string ModelId { get; init; }

    [Key(3)] public required SearchSettings Search { get; init; }

    [Key(4)] public long Seed { get; init; }

    [Key(5)] public SearchTimings Timings { get; set; } = new(DateTime.UnixEpoch, 0);

    [Key(6)] public TreeStatus Status { get; set; } = TreeStatus.Completed;

    /// <summary>Why the search failed; null when it completed.</summary>
    [Key(7)] public string? Error { get; set; }

    /// <summary>All nodes; <c>Nodes[i].Id == i</c> and <c>Nodes[0]</c> is the root.</summary>
    [Key(8)] public List<TreeNode> Nodes { get; init; } = [new TreeNode()];

    [IgnoreMember, JsonIgnore] public TreeNode Root => Nodes[0];

    [IgnoreMember, JsonIgnore] public IEnumerable<TreeNode> Leaves => Nodes.Where(n => n.IsLeaf);

    [IgnoreMember, JsonIgnore] public IEnumerable<TreeNode> Terminals => Nodes.Where(n => n.IsTerminal);

    [IgnoreMember, JsonIgnore] public bool HasCorrectPath => Nodes.Any(n => n.IsTerminal && n.IsCorrect == true);

    /// <summary>Adds a step under <paramref name="parent"/> and returns it; callers then fill in its scores.</summary>
    public TreeNode AddChild(TreeNode parent, string text, int tokenCount = 0, double logProb = 0, double prior = 0)
    {
        if (parent.Id >= Nodes.Count || !ReferenceEquals(Nodes[parent.Id], parent))
            throw new ArgumentException($"Node {parent.Id} does not belong to this tree.", nameof(parent));
        var child = new TreeNode
        {
            Id = Nodes.Count,
            ParentId = parent.Id,
            Depth = parent.Depth + 1,
            Text = text,
            TokenCount = tokenCount,
            LogProb = logProb,
            Prior = prior,
        };
        Nodes.Add(child);
        parent.ChildIds.Add(child.Id);
        return child;
    }

    public TreeNode? Parent(TreeNode node) => node.IsRoot ? null : Nodes[node.ParentId];

    public IEnumerable<TreeNode> Children(TreeNode node) => node.ChildIds.Select(id => Nodes[id]);

    /// <summary>The nodes from the root down to <paramref name="node"/>, both included.</summary>
    public IReadOnlyList<TreeNode> PathTo(TreeNode node)
    {
        var path = new List<TreeNode>(node.Depth + 1);
        for (var current = node; ; current = Nodes[current.ParentId])
        {
            path.Add(current);
            if (current.IsRoot) break;
        }
        path.Reverse();
        return path;
    }

    /// <summary>The step texts from the root's first child down to <paramref name="node"/>.</summary>
    public IReadOnlyList<string> Steps(TreeNode node) => [.. PathTo(node).Skip(1).Select(n => n.Text)];

    /// <summary>The solution text up to <paramref name="node"/>: its steps joined by <see cref="StepDelimiter"/>.</summary>
    public string StepsText(TreeNode node) => string.Join(StepDelimiter, Steps(node));
}
