"""Formats real model outputs take (issue 15's recall work): other scripts and languages, chat templates, markdown,
answer-first options, several spellings of one value, solution groups. Each rule is a table of equal rows and of
near misses that must stay unpaid, so recall is never bought with a false "equal"."""

import pytest

from rewards import verify

# (completion, gold, rule): read and paid
PAID = [
    # other languages and scripts
    ("因此，总共有 13 只鸟。", "13", "zh statement after 因此"),
    ("首先 3 + 4 = 7。然后 7 * 2 = 14。所以一共有14个苹果。", "14", "zh sentences end at 。"),
    ("答案是 3 页。", "3", "zh answer phrase, a CJK counted noun"),
    ("最终答案是 \\boxed{8}", "8", "zh final answer"),
    ("所以，每人分到 (\\frac{3}{4}) 个蛋糕。", "3/4", "LaTeX written outside math delimiters"),
    ("Donc la réponse est 42.", "42", "fr"), ("La respuesta es 7.", "7", "es"), ("Die Antwort ist 9.", "9", "de"),
    ("Ответ: 15", "15", "ru"), ("A resposta é 11.", "11", "pt"),
    ("إذن، مجموع العددين هو **45**.", "45", "ar, the bold value"),
    ("इसलिए, टोकरी में अब 23 सेब हैं।", "23", "hi, sentence end ।"),
    ("Par conséquent, il reste **12 €** à payer.", "12", "fr, a bold value with a currency"),
    # chat templates, markdown, asides and closers
    ("So the total is 15 marbles. <|im_end|>\n<|im_start|>user\nNext: how many if he buys 2 more?", "15", "end of turn"),
    ("The probability is 3/8.<|eot_id|><|start_header_id|>user<|end_header_id|> and if 4 coins?", "3/8", "llama eot"),
    ("Final Answer: The final answer is $24$. I hope it is correct.", "24", "Minerva closer"),
    ("The area is 30 square units.\n\nI hope this helps! Let me know if you have any other questions.", "30", "closer"),
    ("The width is 6.5 cm. (Note: the length was given.)", "6.5", "an aside after the statement"),
    ("**Answer:** `17`", "17", "markdown code"),
    ("Adding gives 9 + 8 = 17. Therefore, the number of pens is 17", "17", "run-on line starting at Therefore"),
    # answer blocks
    ("<think>ok</think>\n<answer>\nThe pattern repeats, so the digit is \\boxed{5}.", "5", "open tag, closed box"),
    ("<answer> Mia is 31. </answer>", "31", "a tagged sentence"),
    ("<answer>42</answer>\n\nHope this helps!", "42", "a closer after the block"),
    ("<answer>(1) open door (2) sit down</answer>", "(1) open door (2) sit down", "an enumerated worded answer"),
    # several values of one statement
    ("Answer: Tom has 91 trees left after 10 years.", "91", "context: after 10 years"),
    ("Answer: It will take Lea 227 minutes to paint all 12 chairs.", "227", "context: to paint all 12"),
    ("Answer: 3 pens cost $4 more than 2 pencils.", "4", "context: than 2 pencils"),
    ("It is 1,000.99m² in all.", "1000.99", "a unit glued to the number"),
    ("The total is 6.02e23 atoms.", "6.02\\times10^{23}", "a power of ten in e-notation"),
    ("So the rate is 1.5e-3.", "0.0015", "a negative power of ten in e-notation"),
    # set 3's failure classes (the rows themselves are in the development table)
    ("**Final answer:**\n\n#### 17", "17", "a #### marker under an answer heading"),
    ("(C) parallel", "parallel", "an option letter with its text, against the text"),
    ("So the answer is (A) yes.", "yes", "an option letter with a one-word text"),
    ("(D) museum.", "D", "an option with its text, against its letter"),
    ("The answer is renting a bike.", "renting a bike", "a worded answer"),
    ("【答案】3√3<eoa>", "3\\sqrt{3}", "the gaokao answer mark, a root glyph"),
    ("We add the digits $4$ and $9$ together, which equals $13$.", "13", "which equals"),
    ("There are 840 cows on the farm.\nYou are an AI assistant. User will ask you a question.", "840",
     "a new conversation a base model makes up"),
    ("\\boxed{9^{\\text{th}} \\text{ floor}}", "9", "an ordinal"),
    ("Hence the polar form is (2, π/3).", "\\left(2, \\frac{\\pi}{3}\\right)", "a tuple in prose with π"),
    ("So the length of the diagonal is √50 units.", "5\\sqrt{2}", "a root glyph in prose"),
    ("</think> <answer>3\\(\\sqrt{5}\\)</answer>", "3\\sqrt{5}", "inline delimiters inside an answer"),
    ("<answer> $7 \u200b.$ </answer>", "7", "zero-width characters"),
    ("<think> x = 4.\nThe answer is 20.\n</answer>", "20", "an answer tag that closes an unclosed think"),
    ("Let $x$ be the number of cats.\n**Solution:**\n2x = 14, so there are 7 cats.", "7",
     "a first line that plans is not an answer written first"),
    ("\\boxed{4 \\mathrm{km} / \\mathrm{h}}", "4", "a compound unit written as two parts"),
    ("So they spent:\n\\[ 45 \\text{ dollars} \\]\non the whole trip.", "45", "a sentence around a display block"),
    ("<think>ok</think>\n**Answer: <answer></answer>**\n<answer>77</answer>", "77", "an empty answer block is skipped"),
    ("#### Part 2: the rest\n$40 + $12 = $52\n\n### ✅ She pays **$52** in all.", "52", "#### opening a markdown heading"),
    ("✅ **Answer: 45 points average**", "45", "a number with a two-word noun phrase"),
    ("**Answer: $18 per week**", "18", "a rate per unit"),
    ("So there are 5! arrangements, which is option (B).", "B", "a value, then the option it is"),
    ("Therefore, the answer is C) 300/x.", "C", "an option letter with a formula as its text"),
    ("$$\\boxed{\\int_0^2 x f(x)\\,dx=-\\frac1{6}}$$", "-\\frac16", "an integral set equal to its value"),
    ("$$\\boxed{\\ \\mathbb E X=7\\ }$$", "\\(E=7\\).", "an expectation against a named gold"),
    ("Thus $$\\boxed{N\\ge 12.}$$ and the construction gives $$\\boxed{12}.$$", "12",
     "a bound boxed on the way to the value"),
    ("<answer>If each box holds 6 eggs, then the total is 8*6 = 48 eggs.</answer>", "48",
     "a condition in words with a number, then the result"),
    ("\\boxed{x = 3 \\text{ cm}, y = 4 \\text{ cm}}", "x=3, y=4", "assignments with units"),
    ("Respuesta: $57,00", "57", "a decimal comma in a sum of money"),
    ("One quarter is 0.25 or 25%.", "\\frac14", "one value written two ways"),
    ("\\boxed{\\frac{1}{3}, 0.\\overline{3}}", "1/3", "one value written two ways, boxed"),
    # options
    ("D. It can't be A or B because both are too small.", "D", "the option letter first"),
    ("The answer: C, it doesn't make sense for it to be A or B", "C", "rejected letters after the answer"),
    ("The answer is for sure B, it can't be A.", "B", "an assertion word before the letter"),
    ("B。 不是 A", "B", "letter first, zh rejection"),
    ("\\boxed{C}", "C Cecile", "a gold option with its text, no brackets"),
    # structures
    ("\\boxed{p=3, q=2 \\quad ; \\quad p=5, q=2}", "(3,2),(5,2)", "solutions as groups of assignments"),
    ("$p=3,q=2;p=5,q=2$", "p = 3, q = 2 \\text{ and } p = 5, q = 2", "the same groups on both sides"),
    ("$1,2;3,4$", "(1,2),(3,4)", "tuples written with semicolons"),
    ("The vertices are $(0;1;2)$ and $(3;4;5)$.", "(0,1,2),(3,4,5)", "semicolons inside tuples"),
    ("\\boxed{5:8}", "S_{ABC}:S_{ABD}=5:8", "a named ratio"),
    ("\\boxed{\\frac{2}{\\sqrt{5}}}", "\\frac{AB}{CD}=\\frac{2}{\\sqrt{5}}", "a named ratio as a fraction"),
    ("\\boxed{\\alpha=\\frac{\\pi}{3},\\ g(1)=2}", "\\frac{\\pi}{3}, 2", "the blanks of a two-part question in order"),
    ("\\boxed{\\{1,2\\} \\cap \\{2,5\\}}", "\\{2\\}", "finite set algebra"),
    ("\\boxed{(\\{1,2\\} \\cup \\{5,6\\}) \\setminus \\{2\\}}", "\\{1,5,6\\}", "with parentheses"),
    ("\\boxed{\\{5 \\pm 2\\}}", "\\{3, 7\\}", "a plus-minus set"),
    ("\\boxed{(0, 2)}", "0<g(x)<2", "the range of a function"),
    ("So the answer is (12 + 30 = 42).", "42", "a chain in parentheses"),
    ("She earns $3 \\times 6 = \\$18$.", "18", "a currency sign inside the chain"),
]


@pytest.mark.parametrize("completion,gold,rule", PAID, ids=[row[2] for row in PAID])
def test_real_formats_are_read_and_paid(completion, gold, rule):
    assert verify(completion, gold) is True


# (completion, gold, rule): the same formats with a wrong or uncommitted answer
UNPAID = [
    ("因此，总共有 14 只鸟。", "13", "zh, wrong value"),
    ("إذن، مجموع العددين هو **46**.", "45", "ar, wrong bold value"),
    ("So the total is 16 marbles. <|im_end|>\n<|im_start|>user\nIs it 15?", "15", "the next user turn is not read"),
    ("<answer>The digit is 5", "5", "an open tag without a box stays no answer"),
    ("<answer>\\boxed{5", "5", "an unclosed box in an open tag"),
    ("<answer>80</answer> (I am not sure, it might be 75)", "80", "doubt after the block"),
    ("<answer>80</answer> Maybe 75?", "80", "a hedged alternative after the block"),
    ("<answer>(1) open door (2) stand up</answer>", "(1) open door (2) sit down", "another enumerated answer"),
    ("D. Wait, no, that's wrong.", "D", "a letter first, then retracted"),
    ("A. First we add 3 and 4. Then we get 7.", "A", "an enumeration label, then a value"),
    ("\\boxed{\\text{(B) and (D)}}", "B", "two options are no choice"),
    ("The answer is D, or maybe C.", "D", "a hedged alternative letter"),
    ("One quarter is 0.25 or 20%.", "\\frac14", "two different values"),
    ("\\boxed{3 \\text{ or } 4}", "3", "a list is not its member"),
    ("\\boxed{p=3, q=2 \\quad ; \\quad p=5, q=3}", "(3,2),(5,2)", "one group wrong"),
    ("\\boxed{5:9}", "S_{ABC}:S_{ABD}=5:8", "a wrong ratio"),
    ("\\boxed{\\alpha=\\frac{\\pi}{3},\\ g(1)=2}", "2, \\frac{\\pi}{3}", "the blanks in the wrong order"),
    ("\\boxed{\\{1,2\\} \\cap \\{2,5\\}}", "\\{1\\}", "wrong set algebra"),
    ("\\boxed{(0, 3)}", "0<g(x)<2", "a wrong range"),
    ("Answer: 3 pens cost $5 more than 4 pencils.", "4", "the context value is not the answer"),
    ("Respuesta: $57,01", "57", "a decimal comma, another sum"),
    ("The total is 6.02e23 atoms.", "6", "e-notation is one number, not its first digit"),
    ("So the rate is 1.5e-3.", "1.5", "e-notation is not its mantissa"),
    ("**Final answer:**\n\n#### 18", "17", "a #### marker, another value"),
    ("\\boxed{5 \\mathrm{km} / \\mathrm{h}}", "4", "a compound unit, another value"),
    ("<answer></answer>", "7", "only an empty answer block"),
    ("So there are 5! arrangements, which is option (B).", "C", "a value, then another option"),
    ("$$\\boxed{\\int_0^2 x f(x)\\,dx=-\\frac1{5}}$$", "-\\frac16", "an integral set equal to another value"),
    ("\\boxed{x + 1 = 7}", "7", "an equation in a variable is no named quantity"),
    ("\\boxed{x \\ge 2} and \\boxed{x \\le 5}", "5", "two bounds are no value"),
    ("#### Part 2: the rest\n$40 + $12 = $52\n\n### ✅ She pays **$53** in all.", "52", "a heading, another value"),
    ("✅ **Answer: 54 points average**", "45", "a two-word noun phrase, another number"),
    ("So they spent:\n\\[ 45 \\text{ dollars} \\]\nand then 50 dollars more.", "45",
     "a display block inside a longer statement"),
    ("\\boxed{x = 3 \\text{ cm}, y = 5 \\text{ cm}}", "x=3, y=4", "assignments with units, one value differs"),
    ("(C) parallel", "perpendicular", "the option text differs"),
    ("(C) parallel", "B", "another option letter"),
    ("The answer is renting a car.", "renting a bike", "another worded answer"),
    ("The answer is not renting a bike.", "renting a bike", "a negated worded answer"),
    ("【答案】2√3<eoa>", "3\\sqrt{3}", "the gaokao answer mark, another root"),
    ("\\boxed{8^{\\text{th}} \\text{ floor}}", "9", "another ordinal"),
    ("Hence the polar form is (2, π/6).", "\\left(2, \\frac{\\pi}{3}\\right)", "another tuple in prose"),
    ("<think> x = 4.\nThe answer is 20.", "20", "an unclosed think without an answer tag"),
    ("There are 840 cows.\nYou are an AI assistant.\nUser: how many?\nThere are 850 cows.", "850",
     "the made-up conversation is not read"),
    ("\\boxed{1,5}", "1.5", "a comma without a currency stays a list"),
    ("It could be that the answer is 7.", "7", "a modal over a that-clause"),
    ("The answer is 7, but I'm not sure.", "7", "doubt in the sentence"),
]


@pytest.mark.parametrize("completion,gold,rule", UNPAID, ids=[row[2] for row in UNPAID])
def test_the_same_formats_wrong_or_uncommitted_are_not_paid(completion, gold, rule):
    assert verify(completion, gold) is False
