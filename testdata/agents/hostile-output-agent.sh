#!/bin/sh
# Succeeds, but prints what a page must show as text, never as markup or
# raw: HTML, terminal escapes, a bell, a bidirectional override, carriage
# returns; and changes a file outside its scope whose name is markup.
# Arguments: the task ID, then the prompt.
mkdir -p "work/$1" stray
echo "done: $1" > "work/$1/out.txt"
echo "stray" > "stray/<i>x<i>&.txt"
printf '<script>document.title="pwned"</script>\n'
printf '<img src="http://example.invalid/x.png" onerror="alert(1)">\n'
printf '\033[31mred\033[0m \033]0;title\007after-osc bell\007here\n'
printf 'test result: ok. 1 passed \342\200\256evil\n'
printf 'progress 10%%\rprogress 100%%\n'
