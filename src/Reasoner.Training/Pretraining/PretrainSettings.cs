using Reasoner.Core.Tasks;
using Reasoner.Models;
using Reasoner.Models.Tokenization;
using Reasoner.Training.Framework;

namespace Reasoner.Training.Pretraining;

/// <summary>Everything that decides a from-scratch training run; the same settings and seed give the same model (up to libtorch thread nondeterminism).</summary>
public sealed record PretrainSettings : TrainingSettings
{
    public PretrainSettings()
    {
        LearningRate = 2e-3;
        WeightDecay = 0.1;
        Batch = 32;
        EvalEvery = 250;
        SaveEvery = 500;
    }

    public required string OutputDirectory { get; init; }

    public TaskMix Tasks { get; init; } = TaskMix.Equal(BuiltinTasks.Names);

    /// <summary>The difficulties training problems are drawn at (the fixed test sets are difficulty 2).</summary>
    public DifficultyMix Difficulties { get; init; } = DifficultyMix.Single(BuiltinTasks.DefaultDifficulty);

    /// <summary>
    /// Tasks drawn at their own difficulties instead of <see cref="Difficulties"/> (pretrain --task-difficulty
    /// arith=1:3,2:1): a run long enough for logic's look-ups takes arithmetic far above its 40–75 % band at difficulty 2,
    /// and easier arithmetic problems are meant to keep it lower without cutting its share (untried; docs/pretraining-experiments.md).
    /// </summary>
    public IReadOnlyDictionary<string, DifficultyMix> TaskDifficulties { get; init; } = new Dictionary<string, DifficultyMix>();

    public DifficultyMix DifficultiesOf(string task) => TaskDifficulties.GetValueOrDefault(task) ?? Difficulties;

    /// <summary>
    /// Loss weight of a task's solution sequences (pretrain --solution-weight arith=0.25), 1 for tasks not named: the task
    /// is learnt more slowly while every sequence of the run, and so what the other tasks see, stays the same. Look-up
    /// drills and self-evaluation examples keep weight 1.
    /// </summary>
    public IReadOnlyDictionary<string, double> SolutionWeights { get; init; } = new Dictionary<string, double>();

    public float SolutionWeightOf(string task) => (float)SolutionWeights.GetValueOrDefault(task, 1.0);

    /// <summary>The hardest level any task trains at in either mix, what the model is said to be trained for.</summary>
    public int HardestDifficulty => Math.Max(Tasks.Names.Max(t => DifficultiesOf(t).Hardest), Switch is null ? 0 : MixAt(Switch.AtStep).HardestDifficulty);

    /// <summary>
    /// A second mix of problems from a step on (pretrain --switch-at 2500 --switch-tasks arith:1,logic:5 ...): from then the
    /// run draws what a run started on that mix draws from that step, so it equals stopping at the step and resuming with
    /// the other mix. One stream can lay down what another cannot (pilot-ae's first 3,500 steps, which the logic
    /// break-through needs) and a later one slow what the first makes too good (arithmetic past its band);
    /// docs/pretraining-experiments.md, pilot-bl and after. Null: one mix throughout.
    /// </summary>
    public MixSwitch? Switch { get; init; }

    /// <summary>The settings whose task and difficulty mixes are in force at <paramref name="step"/>.</summary>
    public PretrainSettings MixAt(int step) => Switch is { } s && step >= s.AtStep
        ? this with { Tasks = s.Tasks, Difficulties = s.Difficulties, TaskDifficulties = s.TaskDifficulties, Switch = null }
        : this;

    /// <summary>
    /// "llama", or "qwen3": the same decoder with each head's queries and keys RMS-normalised before rotary (QK-norm,
    /// Qwen3). The norms' gains carry no weight decay, so attention can grow as sharp as a look-up needs while the
    /// projections stay decayed.
    /// </summary>
    public string Architecture { get; init; } = "llama";

    public int Layers { get; init; } = 4;

    public int Hidden { get; init; } = 256;

    public int Heads { get; init; } = 4;

    public int KvHeads { get; init; } = 4;

    /// <summary>
    /// RoPE base. A larger base turns the slow rotary frequencies slower, so more of each head's dimensions compare
    /// content alone across the hundred-odd tokens between a solution and the question it looks things up in
    /// (Llama 3 uses 500,000 for the same reason at longer range). 10,000 is Llama's original base; 500,000 gave no gain
    /// on the logic look-ups (docs/pretraining-experiments.md, pilot-q).
    /// </summary>
    public double RopeTheta { get; init; } = 10000;

    /// <summary>
    /// Phrases the tokenizer keeps whole ("is a", "is not"): each becomes one pre-tokenizer piece, so BPE can make it one
    /// token (<see cref="ByteLevelBpeTrainer.SplitPatternKeeping"/>). A logic look-up after "Every C is a" then matches its
    /// subject one token back instead of two. Such a tokenizer has no llama.cpp pre-tokenizer, so no GGUF export.
    /// </summary>
    public IReadOnlyList<string> WholePhrases { get; init; } = [];

    /// <summary>Target BPE vocabulary (bytes plus merges); the special tokens come on top.</summary>
    public int VocabSize { get; init; } = 512;

    /// <summary>Longest training sequence, prompt included; longer problems are skipped.</summary>
    public int SeqLen { get; init; } = 320;

    public int WarmupSteps { get; init; } = 100;

    /// <summary>Fixed length in optimizer steps; reproducible. Either this or <see cref="Minutes"/>.</summary>
    public int? Steps { get; init; }

    /// <summary>
    /// Length of the learning-rate schedule when the run stops before its end (nanoGPT's lr_decay_iters): the run trains
    /// the first <see cref="Steps"/> steps of a warmup and cosine decay this long, so that it equals that many steps of the
    /// longer run. Null: <see cref="Steps"/>.
    /// </summary>
    public int? ScheduleSteps { get; init; }

    /// <summary>Training-time budget: the run measures its speed over its first steps and sets the step count from it.</summary>
    public double? Minutes { get; init; }

    /// <summary>Problems per task from the start of each fixed test set for the greedy accuracy monitor.</summary>
    public int EvalProblems { get; init; } = 50;

    public int LogEvery { get; init; } = 10;

    /// <summary>
    /// "fp32", or "bf16": mixed precision, the attention and MLP blocks' matrix products in bf16 on fp32 weights
    /// (<see cref="CausalLanguageModel.MatmulDtype"/>); evaluation, checkpoints and the saved model stay fp32.
    /// </summary>
    public string Matmul { get; init; } = "fp32";

    /// <summary>The model's <see cref="CausalLanguageModel.MatmulDtype"/> for <see cref="Matmul"/>.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public TorchSharp.torch.ScalarType? MatmulDtype => Matmul == "bf16" ? TorchSharp.torch.ScalarType.BFloat16 : null;

    public int Threads { get; init; } = 2;

    public string Device { get; init; } = "cpu";

    /// <summary>Continue from the run folder's checkpoint (which must be there).</summary>
    public bool Resume { get; init; }

    /// <summary>Start afresh in a folder that holds a model or an unfinished run, replacing it.</summary>
    public bool Force { get; init; }

    public int TokenizerProblemsPerTask { get; init; } = 2000;

    /// <summary>
    /// Share of training sequences that are self-evaluation examples (<see cref="SelfEvalCorpus"/>) instead of solutions;
    /// 0 trains solutions only, and the model then knows nothing of the self-evaluation prompt.
    /// </summary>
    public double SelfEvalShare { get; init; } = 0.25;

    /// <summary>Store the final model's weights as float16 (half the bytes; loaders convert them back to float32). The resumable checkpoint stays float32.</summary>
    public bool StoreFloat16 { get; init; } = true;

    /// <summary>Share of logic problems drawn that become look-up drills (<see cref="LookupDrills"/>) instead of solutions.</summary>
    public double LookupShare { get; init; } = 0.3;

    /// <summary>
    /// Share of look-up drills that are rule clozes instead (<see cref="LookupDrills.EncodeCloze"/>): "Every C is" for one
    /// of the question's property rules, answered by its polarity and property. 0 keeps every run's stream as it was.
    /// </summary>
    public double RuleClozeShare { get; init; }

    /// <summary>
    /// Share of look-up drills that are reverse drills instead (<see cref="LookupDrills.EncodeReverse"/>): each statement's
    /// subject asked from its predicate. 0 keeps every run's stream as it was.
    /// </summary>
    public double ReverseDrillShare { get; init; }

    /// <summary>
    /// Share of the look-up drills left after reverse drills that are quiz drills instead (<see cref="LookupDrills.EncodeQuiz"/>):
    /// each property rule asked yes or no by its subject and property. 0 keeps every run's stream as it was.
    /// </summary>
    public double QuizDrillShare { get; init; }

    /// <summary>
    /// Share of the look-up drills left after reverse and quiz drills that are asked-property drills instead
    /// (<see cref="LookupDrills.EncodeAsked"/>): the rules about the asked property written out. 0 keeps every run's stream as it was.
    /// </summary>
    public double AskedDrillShare { get; init; }

    /// <summary>
    /// Share of logic training problems drawn without the contested distractor (<see cref="Core.Tasks.LogicOptions.Contested"/>):
    /// no other category's rule names the asked property, so a head that finds the rules about it reads the polarity
    /// right and is rewarded for it; on the contested rest it then has only to learn to prefer C's rule. 0 keeps every
    /// run's stream as it was; the test sets are always contested.
    /// </summary>
    public double UncontestedShare { get; init; }

    /// <summary>
    /// Loss weight of a rule cloze's few target tokens (<see cref="Batching.TrainingSequence.LossWeight"/>): at 1 the
    /// polarity tokens stay a small share of a batch's loss beside the solutions' and drills' copied text.
    /// </summary>
    public double RuleClozeWeight { get; init; } = 1;

    /// <summary>
    /// Loss weight of a self-evaluation example's one target token, the answer letter, on reference steps and on the
    /// model's own alike (<see cref="Batching.TrainingSequence.LossWeight"/>): at 1 the judgements are under 1 % of a
    /// batch's target tokens beside the solutions' tens of tokens each, so they move the weights little. Weights only;
    /// every sequence of the run stays as it was.
    /// </summary>
    public double SelfEvalWeight { get; init; } = 1;

    /// <summary>
    /// The self-evaluation weight in the own-step phase (own and reference steps alike), instead of
    /// <see cref="SelfEvalWeight"/>: one run can leave the judgements at weight 1 while its circuits form and weigh them
    /// up in the phase, as the runs resumed into a weighted phase did (pilot-ae-own-e5, pilot-bk-own). Null: <see cref="SelfEvalWeight"/>.
    /// </summary>
    public double? OwnStepWeight { get; init; }

    /// <summary>Held-out self-evaluation examples per task (from the fixed test sets' first problems) for the AUC monitor.</summary>
    public int SelfEvalProblems { get; init; } = 200;

    /// <summary>
    /// Optimizer step at which the own-step phase starts: the model samples solutions to train problems, the step judge
    /// labels their steps (<see cref="OwnStepPool"/>), and from then on <see cref="OwnStepShare"/> of the sequences are
    /// self-evaluation examples on those steps. Null: no such phase.
    /// </summary>
    public int? OwnStepsAt { get; init; }

    /// <summary>Share of training sequences in the own-step phase that are self-evaluation examples on the model's own steps.</summary>
    public double OwnStepShare { get; init; } = 0.3;

    /// <summary>
    /// The tasks of the own-step phase's judgements, drawn in these proportions whatever the problem mix (pretrain
    /// --own-step-tasks arith:1,logic:1). Null: each judgement is on a step of the task of the problem it replaces, so
    /// a task drawn a thirteenth of the time gets a thirteenth of the judgements (about 1,500 in a 1,000-step phase of
    /// cand-c2's mix; docs/pretraining-experiments.md, "cand-c5 to cand-c8", where more of them met arithmetic's target).
    /// </summary>
    public TaskMix? OwnStepTasks { get; init; }

    /// <summary>
    /// The task of a judgement that replaces a problem of <paramref name="problemTask"/> in the own-step phase. A one-task
    /// mix draws no random number, so the stream then differs from the default only in which task is judged.
    /// </summary>
    public string OwnStepTaskFor(string problemTask, Random random) => OwnStepTasks switch
    {
        null => problemTask,
        { Names.Count: 1 } only => only.Names[0],
        var mix => mix.Names[mix.Draw(random)],
    };

    /// <summary>Train problems per task the own-step pool samples solutions for.</summary>
    public int OwnStepProblems { get; init; } = 500;

    /// <summary>Solutions sampled per problem for the own-step pool.</summary>
    public int OwnStepSamples { get; init; } = 4;

    /// <summary>Test problems per task whose sampled steps measure self-evaluation on own steps during the phase (never trained on).</summary>
    public int OwnStepHeldOut { get; init; } = 100;

    /// <summary>SwiGLU width: 8/3 of the hidden size as in Llama, rounded up to a multiple of 64.</summary>
    public int Intermediate => (8 * Hidden / 3 + 63) / 64 * 64;

    /// <summary>The optimiser's schedule: linear warmup, cosine decay to a tenth of the peak (nanoGPT, Chinchilla).</summary>
    public TrainerOptions Optimizer() => new()
    {
        LearningRate = LearningRate,
        MinLearningRate = LearningRate / 10,
        WarmupSteps = WarmupSteps,
        TotalSteps = ScheduleSteps ?? Steps ?? int.MaxValue,
        WeightDecay = WeightDecay,
        AccumulationSteps = Accumulation,
    };

    public ModelConfig ModelConfig(int vocabSize, int eosId) => new()
    {
        ModelType = Architecture,
        Architectures = [Models.ModelConfig.ArchitectureByModelType[Architecture]],
        VocabSize = vocabSize,
        HiddenSize = Hidden,
        IntermediateSize = Intermediate,
        NumHiddenLayers = Layers,
        NumAttentionHeads = Heads,
        NumKeyValueHeads = KvHeads,
        RmsNormEps = 1e-5,
        RopeTheta = RopeTheta,
        MaxPositionEmbeddings = SeqLen,
        // Tied: with a few hundred tokens the embedding is a small share, and tying helps a small model generalise.
        TieWordEmbeddings = true,
        InitializerRange = 0.02,
        BosTokenId = null,
        EosTokenIds = [eosId],
        PadTokenId = eosId,
    };

    public override void Validate()
    {
        base.Validate();
        Tasks.Validate();
        Difficulties.Validate();
        foreach (var (task, mix) in TaskDifficulties)
        {
            if (!Tasks.Names.Contains(task)) throw new ArgumentException($"a difficulty is given for '{task}', which is not among the tasks trained on ({Tasks})");
            mix.Validate();
        }
        if (Switch is { } second)
        {
            // Before the schedule's end rather than the run's: a run trained in parts may stop before its switch.
            if (second.AtStep < 1 || ((ScheduleSteps ?? Steps) is { } last && second.AtStep >= last))
                throw new ArgumentException($"the mix switch must come after the first step and before the schedule's last, got {second.AtStep} of {(ScheduleSteps ?? Steps)?.ToString() ?? "a time budget"}");
            // The monitors measure each task trained on, so both mixes must train the same tasks.
            if (!second.Tasks.Names.Order().SequenceEqual(Tasks.Names.Order()))
                throw new ArgumentException($"the mix after the switch must train the same tasks as before it ({Tasks}), got {second.Tasks}");
            MixAt(second.AtStep).Validate();
        }
        foreach (var (task, weight) in SolutionWeights)
        {
            if (!Tasks.Names.Contains(task)) throw new ArgumentException($"a solution weight is given for '{task}', which is not among the tasks trained on ({Tasks})");
            if (!(weight > 0) || !double.IsFinite(weight)) throw new ArgumentException($"the solution weight of '{task}' must be a positive number, got {weight}");
        }
        if ((Steps is null) == (Minutes is null)) throw new ArgumentException("give exactly one of a step count and a time budget in minutes");
        if (Steps is < 1 || Minutes is <= 0) throw new ArgumentException("the step count and the time budget must be positive");
        if (ScheduleSteps is { } schedule && (Steps is not { } steps || schedule < steps))
            throw new ArgumentException($"the schedule's length needs a step count and must be at least it, got {ScheduleSteps} for {Steps?.ToString() ?? "a time budget"}");
        if (Matmul is not ("fp32" or "bf16")) throw new ArgumentException($"the matmul precision must be fp32 or bf16, got '{Matmul}'");
        if (Architecture is not ("llama" or "qwen3")) throw new ArgumentException($"the architecture must be llama or qwen3, got '{Architecture}'");
        if (Layers < 1 || Hidden < 8 || Heads < 1 || KvHeads < 1 || Hidden % Heads != 0 || Heads % KvHeads != 0)
            throw new ArgumentException($"need hidden ({Hidden}) divisible by heads ({Heads}) and heads divisible by kv-heads ({KvHeads})");
        if (SelfEvalShare is < 0 or >= 1) throw new ArgumentException($"the self-evaluation share must be in [0, 1), got {SelfEvalShare}");
        if (OwnStepsAt is < 0 || (OwnStepsAt is { } at && Steps is { } total && at >= total))
            throw new ArgumentException($"the own-step phase must start at a step from 0 to the last, got {OwnStepsAt} of {Steps}");
        if (OwnStepsAt is null && (OwnStepWeight is not null || OwnStepTasks is not null))
            throw new ArgumentException("the own-step phase's weight and tasks need the phase: give --own-steps-at");
        if (OwnStepTasks is { } judged)
        {
            judged.Validate();
            if (judged.Names.FirstOrDefault(t => !Tasks.Names.Contains(t)) is { } stranger)
                throw new ArgumentException($"the own-step judgements' tasks must be trained on ({Tasks}), got '{stranger}'");
        }
        if (OwnStepShare is <= 0 or >= 1) throw new ArgumentException($"the own-step share must be in (0, 1), got {OwnStepShare}");
        if (OwnStepProblems < 1 || OwnStepSamples < 1 || OwnStepHeldOut < 0)
            throw new ArgumentException($"the own-step pool needs problems and samples (got {OwnStepProblems} and {OwnStepSamples}) and a held-out count of 0 or more");
        if (!(SelfEvalWeight > 0) || !double.IsFinite(SelfEvalWeight)) throw new ArgumentException($"the self-evaluation weight must be a positive number, got {SelfEvalWeight}");
        if (OwnStepWeight is { } phaseWeight && (!(phaseWeight > 0) || !double.IsFinite(phaseWeight))) throw new ArgumentException($"the own-step phase's self-evaluation weight must be a positive number, got {phaseWeight}");
        if (!(RuleClozeWeight > 0) || !double.IsFinite(RuleClozeWeight)) throw new ArgumentException($"the rule cloze weight must be a positive number, got {RuleClozeWeight}");
        if (UncontestedShare is < 0 or >= 1) throw new ArgumentException($"the uncontested share must be in [0, 1), got {UncontestedShare}");
        if (AskedDrillShare is < 0 or > 1) throw new ArgumentException($"the asked-property drill share must be in [0, 1], got {AskedDrillShare}");
        if (QuizDrillShare is < 0 or > 1) throw new ArgumentException($"the quiz drill share must be in [0, 1], got {QuizDrillShare}");
        if (ReverseDrillShare is < 0 or > 1) throw new ArgumentException($"the reverse drill share must be in [0, 1], got {ReverseDrillShare}");
        if (RuleClozeShare is < 0 or > 1) throw new ArgumentException($"the rule cloze share must be in [0, 1], got {RuleClozeShare}");
        if (LookupShare is < 0 or >= 1) throw new ArgumentException($"the look-up drill share must be in [0, 1), got {LookupShare}");
        if (!(RopeTheta > 1)) throw new ArgumentException($"the RoPE base must be above 1, got {RopeTheta}");
        try { ByteLevelBpeTrainer.SplitPatternKeeping(WholePhrases); }
        catch (ArgumentException e) { throw new ArgumentException($"--keep-whole: {e.Message}"); }
        if (VocabSize < 256) throw new ArgumentException($"the vocabulary must hold at least 256 tokens (the byte alphabet), got {VocabSize}");
        if (SeqLen < 16 || Threads < 1) throw new ArgumentException($"need at least 16 tokens of sequence and one thread, got {SeqLen} and {Threads}");
    }
}

/// <summary>The task and difficulty mixes a run switches to at <see cref="AtStep"/> (<see cref="PretrainSettings.Switch"/>).</summary>
public sealed record MixSwitch(int AtStep, TaskMix Tasks, DifficultyMix Difficulties, IReadOnlyDictionary<string, DifficultyMix> TaskDifficulties);
