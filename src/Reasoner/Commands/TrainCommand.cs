using System.CommandLine;
using System.Globalization;
using Reasoner.Cli.Hosting;
using Reasoner.Core.Judging;
using Reasoner.Core.Trees;
using Reasoner.Models;
using Reasoner.Training.Oreo;
using Reasoner.Training.Plv;
using Reasoner.Training.Preference;
using Reasoner.Training.Tpo;
using Reasoner.Training.Trpa;
using Spectre.Console;

namespace Reasoner.Cli.Commands;

/// <summary><c>train METHOD RUN…</c>: train a policy on stored search runs, one subcommand per method.</summary>
static class TrainCommand
{
    public static Command Create(CliContext context) =>
        new("train", "Train a model on stored search runs.") { Dpo(context), Tpo(context), Trpa(context), OnpoCommand.Create(context), Plv(context), Oreo(context) };

    /// <summary>The output folder's resumable checkpoint of an unfinished run; removed once the model is saved.</summary>
    public const string CheckpointFolder = Training.Framework.TrainingRun.CheckpointFolder;

    private static Command Dpo(CliContext context)
    {
        var defaults = new DpoSettings();
        var common = new PolicyTrainingOptions(context, "dpo", defaults, "pairs", "TRL preference JSONL ({prompt, chosen, rejected})");
        var loss = EnumOption.Create<DpoLossKind>("--loss", "sigmoid: DPO. conservative: DPO with label smoothing from visit counts (MCTS-DPO's scripts). ipo: IPO on per-token means.", defaults.Loss);
        var beta = new Option<double>("--beta") { Description = "β of the loss (MCTS-DPO: 0.1).", DefaultValueFactory = _ => defaults.Beta };
        var nll = new Option<double>("--nll-weight") { Description = "α of an added α·NLL(chosen) per token (RPO, Pang et al. 2024: 1); 0 is plain DPO.", DefaultValueFactory = _ => defaults.NllWeight };
        var pairs = new StepPairCliOptions();
        var command = new Command("dpo",
            "Step-level DPO (the MCTS-DPO baseline): sibling steps of stored trees as chosen/rejected pairs after their shared prefix, " +
            "the starting model as the frozen reference. Writes a model that eval, generate and a next round of train read.")
        {
            loss, beta, nll,
        };
        common.AddTo(command);
        pairs.AddTo(command);
        command.SetAction((parse, cancel) =>
        {
            var settings = common.Apply(parse, defaults with
            {
                Loss = EnumOption.Value<DpoLossKind>(parse, loss),
                Beta = parse.GetValue(beta),
                NllWeight = parse.GetValue(nll),
            });
            var prompts = PromptFolder.Open(context.Settings);
            var method = new PolicyMethod<TokenizedPair, (double Chosen, double Rejected), PairBatch, DpoMetrics>(
                Name: "step-dpo", Title: "step-level DPO", ExampleKind: "pairs", Settings: settings,
                Data: (trees, checkpoint) =>
                {
                    var (options, valued) = pairs.Resolve(context, parse, trees);
                    var data = StepPairSet.Build(valued, prompts, options, checkpoint.Tokenizer, settings.MaxLength);
                    return new(data.Pairs, $"{data.Texts} step pairs ({data.TooLong} over {settings.MaxLength} tokens and {data.Empty} with an empty side left out)");
                },
                ProblemId: p => p.ProblemId,
                Objective: (model, pad, _) => new StepDpoObjective(model, pad, settings),
                Describe: m => string.Create(CultureInfo.InvariantCulture, $"loss {m.Loss:0.000} reward acc {m.RewardAccuracy:P0} margin {m.RewardMargin:0.000}"),
                SettingsLine: string.Create(CultureInfo.InvariantCulture, $"loss {EnumOption.Kebab(settings.Loss.ToString())}, β {settings.Beta}"))
            {
                ShortName = "dpo",
                FileFormat = "TRL preference JSONL",
                FromFile = (path, checkpoint) =>
                {
                    var read = TrlPreferenceReader.Read(path, checkpoint.Tokenizer);
                    var kept = read.Where(p => p.Chosen.Length > 0 && p.Rejected.Length > 0 && p.Length <= settings.MaxLength).ToList();
                    return new(kept, $"{read.Count} pairs in {Path.GetFileName(path)} ({read.Count - kept.Count} over {settings.MaxLength} tokens or with an empty side left out)");
                },
            };
            return Task.FromResult(PolicyTrainingCommand.Run(context, parse, cancel, common, method));
        });
        return command;
    }

    private static Command Tpo(CliContext context)
    {
        var defaults = new TpoSettings();
        var common = new PolicyTrainingOptions(context, "tpo", defaults, "lists", "TPO list JSONL ({prompt, response_list: [{response: [steps], score}]})");
        var variant = EnumOption.Create<TpoVariant>("--variant", "paper: λ-weighted ranking of every ordered pair with the adaptive step reward (arXiv 2410.12854 Eq. 7–10). code: the released code's shape (step means weighted against the best branch, plain pairwise loss over all pairs).", defaults.Variant);
        var beta = new Option<double>("--beta") { Description = "β of the implicit reward β·log π/π_ref (TPO: 0.5).", DefaultValueFactory = _ => defaults.Beta };
        var noLambda = new Option<bool>("--no-lambda") { Description = "Weight every ranked pair 1 instead of LambdaLoss's λ_ij (paper variant)." };
        var noStepWeights = new Option<bool>("--no-step-weights") { Description = "Sum each branch's log-ratio plainly instead of weighting aligned steps by 1 + cos of their embeddings." };
        var minList = new Option<int>("--min-list") { Description = "Fewest terminal-reaching sibling branches a node needs to give a list.", DefaultValueFactory = _ => defaults.MinListSize };
        var nll = new Option<double>("--nll-weight") { Description = "α of an added α·NLL per token of each list's best branch (RPO, as train dpo's default); 0 is TPO as published.", DefaultValueFactory = _ => defaults.NllWeight };
        var value = EnumOption.Create<NodeValueKind>("--value", "Node value that scores each branch's first step (a step that ends the solution scores its outcome). Default: the value the run's search ranked by. gold: the oracle (built-in tasks only).", null);
        var command = new Command("tpo",
            "TPO (Tree Preference Optimization, ICLR 2025): at every node with several children, the children continued to terminals form a ranked list, " +
            "and the policy learns the list's order through its implicit rewards against the frozen starting model. Writes a model that eval, generate and a next round of train read.")
        {
            variant, beta, noLambda, noStepWeights, minList, nll, value,
        };
        common.AddTo(command);
        command.SetAction((parse, cancel) =>
        {
            var settings = common.Apply(parse, defaults with
            {
                Variant = EnumOption.Value<TpoVariant>(parse, variant),
                Beta = parse.GetValue(beta),
                LambdaWeights = !parse.GetValue(noLambda),
                StepWeights = !parse.GetValue(noStepWeights),
                MinListSize = parse.GetValue(minList),
                NllWeight = parse.GetValue(nll),
            });
            var prompts = PromptFolder.Open(context.Settings);
            var method = new PolicyMethod<TokenizedList, double[][], ListBatch, TpoMetrics>(
                Name: "tpo", Title: "TPO", ExampleKind: "lists", Settings: settings,
                Data: (trees, checkpoint) =>
                {
                    var (selector, valued) = RankingValues(context, parse, value, trees);
                    var data = TpoLists.Build(valued, prompts, selector, checkpoint.Tokenizer, settings.MinListSize, settings.MaxLength);
                    return new(data.Lists, $"{data.Lists.Count} lists from {data.Nodes} nodes with {settings.MinListSize}+ children ({data.TooShort} with fewer branches that reach a terminal and {data.TooLong} over {settings.MaxLength} tokens left out)");
                },
                ProblemId: l => l.ProblemId,
                Objective: (model, pad, _) => new TpoObjective(model, pad, settings),
                Describe: m => string.Create(CultureInfo.InvariantCulture, $"loss {m.Loss:0.000} pair acc {m.PairAccuracy:P0} top acc {m.TopAccuracy:P0}"),
                SettingsLine: string.Create(CultureInfo.InvariantCulture, $"variant {EnumOption.Kebab(settings.Variant.ToString())}, β {settings.Beta}{(settings.LambdaWeights ? "" : ", no λ")}{(settings.StepWeights ? "" : ", no step weights")}"))
            {
                FileFormat = "TPO list JSONL",
                FromFile = (path, checkpoint) =>
                {
                    var (lists, tooShort) = TpoListReader.Read(path, checkpoint.Tokenizer, settings.MinListSize);
                    var kept = lists.Where(l => l.Length <= settings.MaxLength).ToList();
                    return new(kept, $"{lists.Count + tooShort} lists in {Path.GetFileName(path)} ({tooShort} with fewer than {settings.MinListSize} responses and {lists.Count - kept.Count} over {settings.MaxLength} tokens left out)");
                },
            };
            return Task.FromResult(PolicyTrainingCommand.Run(context, parse, cancel, common, method));
        });
        return command;
    }

    private static Command Trpa(CliContext context)
    {
        var defaults = new TrpaSettings();
        var common = new PolicyTrainingOptions(context, "trpa", defaults, "groups");
        var beta = new Option<double>("--beta") { Description = "β of h = β·(r_w − r_l), r a solution's per-token mean log-ratio (TRPA: 0.1).", DefaultValueFactory = _ => defaults.Beta };
        var anisotropy = new Option<double>("--anisotropy") { Description = "Factor on h when the winner is at level 1 (TRPA: 2.5).", DefaultValueFactory = _ => defaults.Anisotropy };
        var trustRegion = new Option<double>("--trust-region") { Description = "Coefficient of the per-token k3 KL to the policy that sampled the solutions (TRPA: 0.001).", DefaultValueFactory = _ => defaults.TrustRegion };
        var groupSize = new Option<int>("--group-size") { Description = "Most solutions per problem (TRPA: 16 rollouts); a tree with more terminals gives a seeded sample.", DefaultValueFactory = _ => defaults.GroupSize };
        var levels = new Option<string>("--levels") { Description = "Levels of a correct, incorrect, unparsable and cut-off solution, 1 best (TRPA's rules: 1,2,3,4); equal numbers merge levels.", DefaultValueFactory = _ => string.Join(",", defaults.Levels) };
        var samples = new Option<int?>("--samples")
        {
            Description = $"Instead of the trees' terminals, sample K solutions per problem of the runs from the current policy at the start of every epoch, recording the sampler's log-probabilities for the trust region (TRPA: 16 rollouts). --samples alone: {TrpaSettings.ReleasedSamples}.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature with --samples (TRPA: 1.0).", DefaultValueFactory = _ => 1.0 };
        var command = new Command("trpa",
            "TRPA (Trust Region Preference Approximation): each problem's finished solutions from its tree, at rule-based levels (correct, incorrect, unparsable, cut off); " +
            "every pair across levels is a preference on per-token mean log-ratios, with a trust region to the policy that searched. Writes a model that eval, generate and a next round of train read.")
        {
            beta, anisotropy, trustRegion, groupSize, levels, samples, temperature,
        };
        common.AddTo(command);
        command.SetAction((parse, cancel) =>
        {
            int[] levelValues;
            try { levelValues = [.. parse.GetValue(levels)!.Split(',').Select(l => int.Parse(l.Trim(), CultureInfo.InvariantCulture))]; }
            catch (FormatException) { throw new UserError($"--levels: expected four comma-separated integers, got '{parse.GetValue(levels)}'"); }
            var settings = common.Apply(parse, defaults with
            {
                Beta = parse.GetValue(beta),
                Anisotropy = parse.GetValue(anisotropy),
                TrustRegion = parse.GetValue(trustRegion),
                GroupSize = parse.GetValue(groupSize),
                Levels = levelValues,
            });
            var prompts = PromptFolder.Open(context.Settings);
            int k = parse.GetResult(samples) is null ? 0 : parse.GetValue(samples) ?? TrpaSettings.ReleasedSamples;
            if (parse.GetResult(samples) is not null && k < 2) throw new UserError($"--samples needs at least 2 solutions per problem to compare, got {k}");
            if (!(parse.GetValue(temperature) > 0)) throw new UserError($"--temperature must be positive, got {parse.GetValue(temperature)}");
            var method = new PolicyMethod<SolutionGroup, float[][], GroupBatch, TrpaMetrics>(
                Name: "trpa", Title: "TRPA", ExampleKind: "groups", Settings: settings,
                Data: (trees, checkpoint) =>
                {
                    var data = TrpaGroups.FromTrees(trees, prompts, checkpoint.Tokenizer, settings);
                    return new(data.Groups, $"{data.Groups.Count} groups of finished solutions ({data.TooSmall} trees with fewer than 2 and {data.TooLong} over {settings.MaxLength} tokens left out)");
                },
                ProblemId: g => g.ProblemId,
                Objective: (model, pad, reference) => new TrpaObjective(model, pad, settings, reference),
                Describe: m => string.Create(CultureInfo.InvariantCulture, $"loss {m.Loss:0.000} pair acc {m.PairAccuracy:P0} kl {m.TrustRegionKl:0.0000}"),
                SettingsLine: string.Create(CultureInfo.InvariantCulture, $"β {settings.Beta}, anisotropy {settings.Anisotropy}, trust region {settings.TrustRegion}, levels {string.Join(",", settings.Levels)}"))
            {
                Sampling = k > 0 ? new OnPolicySamples(k, parse.GetValue(temperature)) : null,
                FromSamples = (drawn, prompt, tokenizer) => TrpaGroups.FromSamples(drawn, prompt, tokenizer, settings),
            };
            return Task.FromResult(PolicyTrainingCommand.Run(context, parse, cancel, common, method));
        });
        return command;
    }

    private static Command Plv(CliContext context)
    {
        var defaults = new PlvSettings();
        var common = new PolicyTrainingOptions(context, "plv", defaults, "pairs", "TRL stepwise JSONL ({prompt, completions, labels}: lines of one prompt that part at a step labelled good on one side and bad on the other are a pair)");
        var margin = new Option<double>("--margin") { Description = "Least difference of two siblings' rewards for them to make a pair (Tree-PLV: 0.375).", DefaultValueFactory = _ => defaults.Margin };
        var value = EnumOption.Create<NodeValueKind>("--value", "Node value that is a step's reward. Default: the value the run's search ranked by (monte-carlo-value for best-first, as Tree-PLV; q for mcts). gold: the oracle (built-in tasks only).", null);
        var command = new Command("plv",
            "Tree-PLV step verifier: a scorer (the policy's decoder and a scalar head, saved as …ForTokenClassification) trained on sibling pairs whose rewards differ by the margin, " +
            "each side continued by its best child, with the step-level ranking loss −Σ_{i=d..m} log σ(r⁺_i − r⁻_i) from the divergence step to the shorter side's last. Writes a verifier that ScorerEngine loads.")
        {
            margin, value,
        };
        common.AddTo(command);
        command.SetAction((parse, cancel) =>
        {
            var settings = common.Apply(parse, defaults with { Margin = parse.GetValue(margin) });
            var prompts = PromptFolder.Open(context.Settings);
            var method = new PolicyMethod<PlvPair, bool, PlvBatch, PlvMetrics>(
                Name: "plv", Title: "Tree-PLV verifier", ExampleKind: "pairs", Settings: settings,
                Data: (trees, checkpoint) =>
                {
                    var (reward, valued) = RankingValues(context, parse, value, trees);
                    var data = PlvPairs.FromTrees(valued, prompts, checkpoint.Tokenizer, reward, settings.Margin, settings.MaxLength);
                    return new(data.Pairs, string.Create(CultureInfo.InvariantCulture,
                        $"{data.Pairs.Count + data.TooLong + data.Empty} sibling pairs at least {settings.Margin} apart ({data.TooLong} over {settings.MaxLength} tokens and {data.Empty} with an empty step left out)"));
                },
                ProblemId: p => p.ProblemId,
                Objective: (model, pad, _) => new PlvObjective(model, pad),
                Describe: m => string.Create(CultureInfo.InvariantCulture, $"loss {m.Loss:0.000} step acc {m.StepAccuracy:P0} margin {m.Margin:0.000}"),
                SettingsLine: string.Create(CultureInfo.InvariantCulture, $"margin {settings.Margin}; the verifier starts as the policy's decoder with a new scalar head"))
            {
                FileFormat = "TRL stepwise JSONL",
                FromFile = (path, checkpoint) =>
                {
                    var data = PlvStepwiseReader.Read(path, checkpoint.Tokenizer, settings.MaxLength);
                    return new(data.Pairs, $"{data.Pairs.Count} pairs from {data.Trees} stepwise lines of {Path.GetFileName(path)} ({data.TooLong} over {settings.MaxLength} tokens and {data.Empty} with an empty step left out)");
                },
                TrainedModel = policy => CausalLanguageModel.ScorerFrom(policy),
                NextHint = "eval --task arith --best-of 16 --verifier OUT to rerank samples, or generate --verifier OUT to score search's steps",
            };
            return Task.FromResult(PolicyTrainingCommand.Run(context, parse, cancel, common, method));
        });
        return command;
    }

    private static Command Oreo(CliContext context)
    {
        var defaults = new OreoSettings();
        var common = new PolicyTrainingOptions(context, "oreo", defaults, "paths");
        var beta = new Option<double>("--beta") { Description = "β of the soft Bellman residual β·A_t + V(s_t) − R (OREO: 0.03).", DefaultValueFactory = _ => defaults.Beta };
        var kl = new Option<double>("--kl") { Description = "α of the exact per-token KL to the starting policy (OREO step level: 0.1).", DefaultValueFactory = _ => defaults.KlWeight };
        var maxPaths = new Option<int>("--max-paths") { Description = "Most root-to-terminal paths per problem, balanced between right and wrong (OREO 7B: 8).", DefaultValueFactory = _ => defaults.MaxPaths };
        var command = new Command("oreo",
            "OREO (offline reasoning optimisation, soft Bellman): the runs' root-to-terminal paths with reward 1 for a right answer; a value head on the policy learns V(s_t) " +
            "and the policy learns each step's log-ratio so that β·A_t + V(s_t) = R, plus a KL to the starting policy. Writes the policy and its value head (value_head.safetensors).")
        {
            beta, kl, maxPaths,
        };
        common.AddTo(command);
        command.SetAction((parse, cancel) =>
        {
            var settings = common.Apply(parse, defaults with { Beta = parse.GetValue(beta), KlWeight = parse.GetValue(kl), MaxPaths = parse.GetValue(maxPaths) });
            var prompts = PromptFolder.Open(context.Settings);
            var method = new PolicyMethod<OreoPath, bool, OreoBatch, OreoMetrics>(
                Name: "oreo", Title: "OREO", ExampleKind: "paths", Settings: settings,
                Data: (trees, checkpoint) =>
                {
                    var data = OreoPaths.FromTrees(trees, prompts, checkpoint.Tokenizer, settings);
                    int right = data.Paths.Count(p => p.Reward > 0);
                    return new(data.Paths, string.Create(CultureInfo.InvariantCulture,
                        $"{data.Paths.Count} root-to-terminal paths, {right} right and {data.Paths.Count - right} wrong ({data.TooLong} over {settings.MaxLength} tokens left out)"));
                },
                ProblemId: p => p.ProblemId,
                Objective: (model, pad, reference) => new OreoObjective(model, reference!, pad, settings),
                Describe: m => string.Create(CultureInfo.InvariantCulture, $"loss {m.Loss:0.000} value {m.ValueLoss:0.000} kl {m.Kl:0.0000} V(s0) right {m.ValueRight:0.00} wrong {m.ValueWrong:0.00}"),
                SettingsLine: string.Create(CultureInfo.InvariantCulture, $"β {settings.Beta}, KL {settings.KlWeight}; the value is a head on the policy"))
            {
                FrozenReference = true,
                TrainedModel = policy =>
                {
                    policy.AttachValueHead();
                    return policy;
                },
            };
            return Task.FromResult(PolicyTrainingCommand.Run(context, parse, cancel, common, method));
        });
        return command;
    }

    /// <summary>The value that ranks steps (the runs' own unless --value names one) and the trees to read with it (gold judges them as they are read).</summary>
    internal static (Func<Core.Trees.TreeNode, double?> Value, IReadOnlyList<PreferenceTree> Trees) RankingValues(CliContext context, ParseResult parse, Option<string> value, IReadOnlyList<PreferenceTree> trees)
    {
        var ranking = EnumOption.ValueOrNull<NodeValueKind>(parse, value) ?? ExportCommand.RankingValue(trees.Select(t => t.Search.Algorithm));
        if (ranking == NodeValueKind.Gold && trees.FirstOrDefault(t => !StepJudges.Supports(t.Problem.Family)) is { } other)
            throw new UserError($"--value gold ranks steps by gold step labels, which only the built-in tasks arith and logic have; the runs hold {other.Problem.Family} trees");
        var (valued, selector) = GoldValues.Resolve(trees, ranking);
        if (ranking == NodeValueKind.Gold)
            context.Console.MarkupLine("[yellow]oracle: steps ranked by gold step labels, an upper bound for comparison, not a method[/]");
        return (selector, valued.ToList());
    }

    /// <summary>The model folder that searched the runs, which on-policy training starts from.</summary>
    internal static string? SearchingModel(IEnumerable<string> treeModelIds) => PolicyTrainingCommand.SearchingModel(treeModelIds);
}

/// <summary>How sibling steps become pairs: the ranking value, which siblings pair, and what follows each step.</summary>
sealed class StepPairCliOptions
{
    private readonly Option<string> value = EnumOption.Create<NodeValueKind>("--value", "Node value that ranks sibling steps. Default: the value the run's search ranked by (q for mcts, monte-carlo-value for best-first). gold: the oracle (gold step labels; built-in tasks only).", null);
    private readonly Option<string> pairs = EnumOption.Create<PairSelection>("--pairs", "best-vs-worst sibling per group (MCTS-DPO) or all sibling pairs past --min-margin (Tree-PLV).", PairSelection.BestVsWorst);
    private readonly Option<string> groups = EnumOption.Create<SiblingGroups>("--groups", "Sibling groups pairs come from: along the most visited path (MCTS-DPO; the default for mcts runs) or every node with two or more children (the default otherwise).", null);
    private readonly Option<double> margin = new("--min-margin") { Description = "Keep a pair only when chosen's value exceeds rejected's by at least this.", DefaultValueFactory = _ => 0 };
    private readonly Option<string> continuation = EnumOption.Create<ContinuationMode>("--continuation", "What follows each compared step: nothing, the single-child chain below it (MCTS-DPO), or its best child down to a leaf.", ContinuationMode.SingleChildChain);

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { value, pairs, groups, margin, continuation }) command.Options.Add(option);
    }

    /// <summary>
    /// The pair rule for these trees and the trees to read with it: the run's ranking value unless --value names one (gold
    /// judges the trees as they are read), and <see cref="PairDefaults.ForTraining"/> overridden by the options.
    /// </summary>
    public (StepPairOptions Options, IReadOnlyList<PreferenceTree> Trees) Resolve(CliContext context, ParseResult parse, IReadOnlyList<PreferenceTree> trees)
    {
        var (selector, valued) = TrainCommand.RankingValues(context, parse, value, trees);
        var ranking = EnumOption.ValueOrNull<NodeValueKind>(parse, value) ?? ExportCommand.RankingValue(trees.Select(t => t.Search.Algorithm));
        var defaults = PairDefaults.ForTraining(ranking, selector);
        return (defaults with
        {
            MinMargin = parse.GetValue(margin),
            Selection = EnumOption.Value<PairSelection>(parse, pairs),
            Groups = EnumOption.ValueOrNull<SiblingGroups>(parse, groups) ?? defaults.Groups,
            Continuation = EnumOption.Value<ContinuationMode>(parse, continuation),
        }, valued);
    }
}
