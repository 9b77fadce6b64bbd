using System.Text.Json;
using Reasoner.Core.Export;
using Reasoner.Core.Trees;
using Reasoner.Models.Backends;
using Reasoner.Search;
using static Reasoner.Tests.Search.SearchKit;

namespace Reasoner.Tests.Search;

public class SearchDeterminismTests
{
    public static TheoryData<string> Algorithms => ["mcts", "best-first", "beam"];

    private static ISearchAlgorithm Create(string name, ILanguageModel model, long seed) => name switch
    {
        "mcts" => new MonteCarloTreeSearch(model, PromptFiles, new MctsSettings { Seed = seed, World = World, Iterations = 3, RootActions = 3 }),
        "best-first" => new BestFirstSearch(model, PromptFiles, new BestFirstSettings
        {
            Seed = seed,
            World = World with { DepthLimit = 8 },
            MaxExpansions = 6,
            StopAtFirstTerminal = false,
            Scoring = new ScoringSettings { Weights = new ScorerWeights { MonteCarlo = 1, SelfEval = 0.5 }, MonteCarlo = new MonteCarloSettings { Rollouts = 4 } },
        }),
        "beam" => new BeamSearch(model, PromptFiles, new BeamSettings { Seed = seed, World = World with { DepthLimit = 8 }, BeamWidth = 2, Actions = 2 }),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task TheSameSeedGivesTheSameTreeNodeForNode(string algorithm)
    {
        var first = await Create(algorithm, new ScriptedLanguageModel(Wide()), 21).SearchAsync(TwoX);
        var second = await Create(algorithm, new ScriptedLanguageModel(Wide()), 21).SearchAsync(TwoX);

        Assert.Equal(TreeStatus.Completed, first.Status);
        Assert.True(first.Nodes.Count > 4);
        Assert.Equal(Canonical(first), Canonical(second));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task ADifferentSeedGivesADifferentTree(string algorithm)
    {
        var first = await Create(algorithm, new ScriptedLanguageModel(Wide()), 21).SearchAsync(TwoX);
        var second = await Create(algorithm, new ScriptedLanguageModel(Wide()), 22).SearchAsync(TwoX);

        Assert.NotEqual(NodesJson(first), NodesJson(second));
    }

    [Fact]
    public async Task ConcurrentSearchesOfOneAlgorithmDoNotDisturbEachOther()
    {
        var model = new ScriptedLanguageModel(Wide());
        var search = Create("beam", model, 21);
        var problems = Enumerable.Range(0, 4).Select(i => TwoX with { Id = $"p{i}" }).ToList();

        var together = await Task.WhenAll(problems.Select(p => search.SearchAsync(p)));

        for (var i = 0; i < problems.Count; i++)
        {
            var alone = await Create("beam", new ScriptedLanguageModel(Wide()), 21).SearchAsync(problems[i]);
            Assert.Equal(Canonical(alone), Canonical(together[i]));
        }
        Assert.NotEqual(NodesJson(together[0]), NodesJson(together[1]));
    }

    private static string NodesJson(PreferenceTree tree) => JsonSerializer.Serialize(tree.Nodes, TreeJsonlExport.SerializerOptions);
}
