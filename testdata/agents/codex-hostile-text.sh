#!/bin/sh
# Acts like `codex exec --json` whose own text carries what a terminal
# would obey: an OSC title sequence ending in a bell, CSI sequences
# (colour, clear screen) and a right-to-left override (U+202E), in a
# command, a file path, a message, a question and an error. JSON escapes
# them in the stream; decoded, they must reach live progress escaped.
# Arguments: the task ID, the last-message file, the prompt.
mkdir -p "work/$1"
echo "done" > "work/$1/out.txt"
e='\u001b]0;pwned\u0007\u001b[31mred\u001b[2J\u202eevil'
cat <<JSON
{"type":"thread.started","thread_id":"th-hostile"}
{"type":"turn.started"}
{"type":"error","message":"Reconnecting $e"}
{"type":"item.started","item":{"id":"i1","type":"command_execution","command":"echo $e","aggregated_output":"","exit_code":null,"status":"in_progress"}}
{"type":"item.completed","item":{"id":"i1","type":"command_execution","command":"echo $e","aggregated_output":"$e","exit_code":0,"status":"completed"}}
{"type":"item.completed","item":{"id":"i2","type":"file_change","changes":[{"path":"work/$1/out$e.txt","kind":"add"}],"status":"completed"}}
{"type":"request_user_input","id":"r1","call_id":"c1","questions":[{"id":"q1","header":"H","question":"Proceed $e?"}]}
{"type":"item.completed","item":{"id":"i3","type":"agent_message","text":"Done $e"}}
{"type":"turn.completed","usage":{"input_tokens":10,"cached_input_tokens":0,"output_tokens":5}}
JSON
